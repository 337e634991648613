"""Exit codes of the `strangler` CLI, for scripts.

0  done
1  refused: the request was understood but the state forbids it (stale version, failed gate, drift)
2  bad input: arguments, configuration file
3  a store or service the command needs is unreachable
"""

OK = 0
REFUSED = 1
BAD_INPUT = 2
UNREACHABLE = 3
