"""Build customer accounts (European companies from Faker), their contact users and Contact rows.

The first customer's first contact is the demo login ``customer``; every other contact shares one
password hash, because hashing thousands of passwords would dominate the run time.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils.text import slugify
from faker import Faker

from legacy_monolith.customers.models import Tier

from .config import RECEIPT_AT
from .rows import ContactRow, CustomerRow, UserRow

# (Faker locale, ISO country, share of customers, e-mail top-level domain)
LOCALES = (
    ("de_DE", "DE", 55, "de"),
    ("de_AT", "AT", 8, "at"),
    ("fr_FR", "FR", 12, "fr"),
    ("nl_NL", "NL", 10, "nl"),
    ("en_GB", "GB", 8, "co.uk"),
    ("pl_PL", "PL", 7, "pl"),
)
TIER_WEIGHTS = {Tier.STANDARD: 60, Tier.SILVER: 25, Tier.GOLD: 11, Tier.PLATINUM: 4}
# Credit limit range in thousands of euros, and how much more often the tier orders.
TIER_CREDIT = {Tier.STANDARD: (5, 25), Tier.SILVER: (25, 75), Tier.GOLD: (75, 200), Tier.PLATINUM: (200, 500)}
TIER_ACTIVITY = {Tier.STANDARD: 1.0, Tier.SILVER: 1.8, Tier.GOLD: 3.0, Tier.PLATINUM: 5.0}
INACTIVE_SHARE = 0.03
JOB_TITLES = (
    "Purchasing Manager", "Buyer", "Procurement Specialist", "IT Manager", "Head of Operations",
    "Electronics Engineer", "Lab Manager", "Supply Chain Coordinator", "Managing Director", "Office Manager",
)
LEGAL_FORMS = {
    "gmbh", "ag", "kg", "co", "ev", "mbh", "ohg", "kgaa", "gbr", "sa", "sas", "sarl", "et", "fils", "bv", "nv",
    "vof", "ltd", "plc", "llc", "inc", "and", "sons", "group", "sp", "z", "oo", "i", "syn", "sc", "ska", "u", "cie",
}
CUSTOMER_MAILBOXES = ("orders", "purchasing", "einkauf", "procurement", "info", "accounts")


@dataclass
class Account:
    """What the order generator needs to know about a customer."""

    id: int
    tier: str
    address: str
    city: str
    contact_user_ids: list[int] = field(default_factory=list)


@dataclass
class People:
    customers: list[CustomerRow]
    users: list[UserRow]  # the admin first, then the contacts
    contacts: list[ContactRow]
    accounts: list[Account]  # the customers that order, in id order
    activity: list[float]  # cumulative order weight of `accounts`


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Jürgen Weiß' -> 'jurgenweiss'."""
    text = text.replace("ß", "ss").replace("ł", "l").replace("Ł", "L")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _domain(company: str, tld: str) -> str:
    words = [w for w in slugify(company.replace("ß", "ss")).split("-") if w and w not in LEGAL_FORMS]
    return f"{'-'.join(words[:2])[:30] or 'company'}.{tld}"


def _vat_number(rng, country: str) -> str:
    digits = "".join(str(rng.randrange(10)) for _ in range(9))
    return {"AT": f"ATU{digits[:8]}", "FR": f"FR{rng.randrange(10, 99)}{digits}", "NL": f"NL{digits}B01"}.get(
        country, f"{country}{digits}" if country != "PL" else f"PL{digits}{rng.randrange(10)}"
    )


def _customer(rng, fake: Faker, pk: int, country: str, tld: str) -> CustomerRow:
    company = fake.company()
    street = fake.street_address().replace("\n", ", ")
    city, postcode = fake.city(), fake.postcode()
    tier = rng.choices(list(TIER_WEIGHTS), weights=list(TIER_WEIGHTS.values()))[0]
    low, high = TIER_CREDIT[tier]
    created_at = (RECEIPT_AT - timedelta(days=rng.uniform(15, 2000))).replace(microsecond=0)
    return CustomerRow(
        id=pk, account_number=f"C{pk:06d}", company_name=company[:200], vat_number=_vat_number(rng, country),
        email=f"{rng.choice(CUSTOMER_MAILBOXES)}@{_domain(company, tld)}", phone=fake.phone_number()[:40],
        address=f"{street}\n{postcode} {city}", city=city[:100], country=country, tier=tier,
        credit_limit=Decimal(rng.randint(low, high) * 1000), active=pk == 1 or rng.random() >= INACTIVE_SHARE,
        created_at=created_at, updated_at=created_at + (RECEIPT_AT - created_at) * rng.random(),
    )


def _contact_user(rng, fake: Faker, pk: int, customer: CustomerRow, *, username: str | None, password: str,
                  taken: str) -> UserRow:
    """A contact's user; `username` None means the usual ``c000123.jdoe``, never equal to `taken`."""
    first, last = fake.first_name(), fake.last_name()
    if username is None:
        username = f"{customer.account_number.lower()}.{ascii_slug(first)[:1]}{ascii_slug(last)[:40] or 'contact'}"
        if username == taken:
            username += "2"
    joined = customer.created_at + (RECEIPT_AT - customer.created_at) * rng.random() * 0.5
    return UserRow(
        id=pk, username=username, password=password, first_name=first[:150], last_name=last[:150],
        email=f"{ascii_slug(first)}.{ascii_slug(last)}@{customer.email.split('@')[1]}",
        is_staff=False, is_superuser=False, is_active=True, date_joined=joined.replace(microsecond=0),
    )


def build_people(rng, *, seed: int, customer_count: int, admin: UserRow, passwords: dict[str, str]) -> People:
    """Customers with 1-2 contacts each; `admin` is the already built staff user (id 1)."""
    fakers = {}
    for locale, *_ in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)
    customers, users, contacts, accounts, activity, total = [], [admin], [], [], [], 0.0
    for pk in range(1, customer_count + 1):
        locale, country, _, tld = rng.choices(LOCALES, weights=[entry[2] for entry in LOCALES])[0]
        customer = _customer(rng, fakers[locale], pk, country, tld)
        customers.append(customer)
        account = Account(id=pk, tier=customer.tier, address=customer.address, city=customer.city)
        for n in range(1 if rng.random() < 0.55 else 2):
            demo = pk == 1 and n == 0
            user = _contact_user(
                rng, fakers[locale], len(users) + 1, customer, username="customer" if demo else None,
                password=passwords["customer" if demo else "contact"], taken=users[-1].username,
            )
            users.append(user)
            contacts.append(ContactRow(
                id=len(contacts) + 1, user_id=user.id, customer_id=pk, job_title=rng.choice(JOB_TITLES),
                phone=fakers[locale].phone_number()[:40],
            ))
            account.contact_user_ids.append(user.id)
        if customer.active:
            # Inactive accounts are dormant: they place no orders in the window.
            total += TIER_ACTIVITY[customer.tier] * rng.lognormvariate(0, 0.8)
            accounts.append(account)
            activity.append(total)
    return People(customers=customers, users=users, contacts=contacts, accounts=accounts, activity=activity)
