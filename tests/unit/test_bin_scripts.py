"""The shell scripts under bin/ print no secret: URLs are shown masked, the admin token file is private."""

import re
from pathlib import Path

BIN = Path(__file__).resolve().parents[2] / "bin"
# A variable that may hold a URL with a password: *_URL, or any of these.
_URL_VARIABLE = re.compile(r"\$\{?([A-Z_]*URL)\b")


def test_no_script_echoes_a_url_variable_unmasked():
    for script in sorted(BIN.iterdir()):
        for number, line in enumerate(script.read_text().splitlines(), 1):
            if re.match(r"\s*(echo|printf)\b", line):
                shown = _URL_VARIABLE.findall(line)
                assert not shown, f"{script.name}:{number} prints ${shown[0]}; print its masked form (router.masking)"
