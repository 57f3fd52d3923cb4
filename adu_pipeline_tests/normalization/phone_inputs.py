"""Phone test inputs per country: valid and invalid, national, international, IDD, punctuated."""

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

COUNTRIES = ["US", "CA", "GB", "DE", "FR", "IT", "ES", "IN", "JP"]
OTHER = [
    "CN",
    "BR",
    "AU",
    "MX",
    "NL",
    "CH",
    "RU",
    "ZA",
    "AG",
    "JM",
    "PR",
    "GG",
    "JE",
    "IM",
    "VA",
    "SG",
    "AE",
]
TYPES = [
    T.FIXED_LINE,
    T.MOBILE,
    T.TOLL_FREE,
    T.PREMIUM_RATE,
    T.SHARED_COST,
    T.VOIP,
    T.PERSONAL_NUMBER,
    T.PAGER,
    T.UAN,
    T.VOICEMAIL,
]


def examples(region):
    out = []
    for t in TYPES:
        ex = phonenumbers.example_number_for_type(region, t)
        if ex is not None:
            out.append(ex)
    return out


def mutate(rng, digits):
    d = list(digits)
    op = rng.randrange(4)
    if op == 0 and d:
        d[rng.randrange(len(d))] = str(rng.randrange(10))
    elif op == 1:
        d.insert(rng.randrange(len(d) + 1), str(rng.randrange(10)))
    elif op == 2 and len(d) > 1:
        del d[rng.randrange(len(d))]
    else:
        for _ in range(rng.randint(1, 3)):
            if d:
                d[-1 - rng.randrange(min(len(d), 6))] = str(rng.randrange(10))
    return "".join(d)


def punctuate(rng, s):
    out = []
    for ch in s:
        out.append(ch)
        if rng.random() < 0.25:
            out.append(rng.choice([" ", "-", ".", " ", "/"]))
    t = "".join(out)
    if rng.random() < 0.2 and len(t) > 4:
        t = "(" + t[:3] + ") " + t[3:]
    return t


def generate(country, n, seed=0):
    rng = random.Random(f"{country}-{seed}")
    pool = []
    for region in [country] + OTHER + COUNTRIES:
        pool.extend(examples(region))
    values = set()
    while len(values) < n:
        ex = rng.choice(pool)
        num = phonenumbers.PhoneNumber()
        num.merge_from(ex)
        nsn = phonenumbers.national_significant_number(num)
        if rng.random() < 0.7:
            nsn = mutate(rng, nsn)
        try:
            num = phonenumbers.PhoneNumber(
                country_code=ex.country_code,
                national_number=int(nsn or "0"),
                italian_leading_zero=nsn.startswith("0") or None,
                number_of_leading_zeros=(len(nsn) - len(nsn.lstrip("0"))) or None,
            )
        except Exception:
            continue
        style = rng.randrange(8)
        if style == 0:
            s = phonenumbers.format_number(num, F.E164)
        elif style == 1:
            s = phonenumbers.format_number(num, F.INTERNATIONAL)
        elif style == 2:
            s = phonenumbers.format_number(num, F.NATIONAL)
        elif style == 3:
            s = phonenumbers.format_out_of_country_calling_number(num, country)
        elif style == 4:
            s = str(num.country_code) + nsn  # cc without '+'
        elif style == 5:
            s = punctuate(rng, nsn)
        elif style == 6:
            s = punctuate(rng, "+" + str(num.country_code) + nsn)
        else:
            s = "".join(str(rng.randrange(10)) for _ in range(rng.randint(1, 18)))
        if rng.random() < 0.1:
            s = rng.choice(["0", "1", "00", "011", "+0", "+", "0 ", "(0)"]) + s
        values.add(s.strip() or "1")
    return sorted(values)
