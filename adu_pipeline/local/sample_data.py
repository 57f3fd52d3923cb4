"""A synthetic, realistically messy CRM export for the demo, benchmarks and tests.

No real PII: names come from small built-in lists, emails use reserved example domains (RFC 2606),
and phone numbers are generated from well-formed number plans. The mess is the kind real exports
carry: mixed case, stray spaces, invalid emails and phones, blanks, exact duplicate rows, national
and international phone formats, ZIP+4, lowercase GB postcodes, "UK" for GB, unsupported and blank
countries, and a few unparsable dates.

Columns vectorized with pyarrow.compute, generated in fixed chunks of CHUNK_ROWS rows; chunk k
draws from its own generator seeded with (seed, k), so output depends only on (rows, seed,
export_date, unique_ids) and streams with bounded memory whatever the row count.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import unicodedata
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# The CRM export's header, in order; data/datasets/crm_customers.yaml maps these (tests check).
EXPORT_COLUMNS = (
    "Email", "Phone Number", "First Name", "Last Name", "Street Address", "City", "State/Region",
    "Postal Code", "Country/Region", "Loyalty Tier", "Lifetime Value", "Last Order Date",
)  # fmt: skip
CHUNK_ROWS = 50_000
WORKERS = 2

# Written country value -> share of rows. "" is blank (the dataset default country applies).
COUNTRY_SHARES = {
    "US": 0.70, "GB": 0.045, "UK": 0.035, "CA": 0.07, "DE": 0.05, "FR": 0.05, "BR": 0.01, "": 0.04,
}  # fmt: skip
# Which data layout (names, places, phone plan) a written country uses.
LAYOUT = {
    "US": "US",
    "GB": "GB",
    "UK": "GB",
    "CA": "CA",
    "DE": "DE",
    "FR": "FR",
    "BR": "BR",
    "": "US",
}
LAYOUTS = ("US", "GB", "CA", "DE", "FR", "BR")

RATES = {
    "duplicate_row": 0.01,
    "email_blank": 0.03,
    "email_invalid": 0.02,
    "email_upper": 0.05,
    "email_capitalized": 0.05,
    "email_plus_tag": 0.03,
    "phone_blank": 0.05,
    "phone_invalid": 0.02,
    "name_blank": 0.02,
    "name_upper": 0.04,
    "name_lower": 0.06,
    "stray_spaces": 0.04,
    "address_blank": 0.04,
    "address_unit": 0.20,
    "zip_plus4": 0.15,
    "zip_lost_zero": 0.01,
    "postcode_lower": 0.30,
    "postcode_no_space": 0.20,
    "country_lower": 0.05,
    "tier_blank": 0.03,
    "tier_lower": 0.05,
    "value_blank": 0.03,
    "date_blank": 0.05,
    "date_unparsable": 0.002,
}

FIRST_NAMES = {
    "US": ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
           "Elizabeth", "William", "Barbara", "Maria", "José", "Aaliyah", "Zoë", "Renée",
           "DeShawn", "Mei", "Hiroshi", "Priya", "Liam", "Olivia", "Noah", "Emma", "Ava", "Sophia",
           "Mateo"],
    "GB": ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Charlie",
           "Siobhán", "Niamh", "Rhys", "Eilidh", "Callum", "Freya", "Arjun", "Aoife",
           "Thomas", "Chloé"],
    "CA": ["Liam", "Olivia", "Noah", "Emma", "Félix", "Chloé", "Étienne", "Léa", "Benjamin",
           "Charlotte", "William", "Zoé", "Raphaël", "Mia", "Jacob", "Amélie"],
    "DE": ["Lukas", "Anna", "Jonas", "Lea", "Jürgen", "Sophie", "Maximilian", "Marie", "Björn",
           "Käthe", "Felix", "Hannah", "Günther", "Mia", "Paul", "Jörg", "Lena"],
    "FR": ["Gabriel", "Louise", "Léo", "Jade", "Raphaël", "Emma", "Hélène", "Chloé", "Jérôme",
           "Zoé", "Noël", "Inès", "Lucas", "Manon", "François", "Anaïs"],
    "BR": ["João", "Maria", "Pedro", "Ana", "Lucas", "Júlia", "Gabriel", "Beatriz", "Matheus"],
}  # fmt: skip
LAST_NAMES = {
    "US": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
           "Rodriguez", "Martinez", "Hernández", "Lopez", "Wilson", "Anderson", "Thomas",
           "Taylor", "Moore",
           "O'Connor", "Nguyen", "Kim", "Patel", "Van der Berg", "McDonald", "Smith-Jones"],
    "GB": ["Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
           "O'Brien", "Roberts", "Johnson", "Lewis", "Walker", "MacLeod", "Ní Bhriain", "Khan"],
    "CA": ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Smith",
           "Brown", "Wilson", "MacDonald", "Lévesque", "Bélanger"],
    "DE": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Größer", "von Richter"],
    "FR": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Lefèvre", "Moreau", "Girard", "Roux", "Fournier", "D'Artois", "Leblanc-Giraud"],
    "BR": ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Conceição"],
}  # fmt: skip
# (city, state code, state name, postal seed) per layout; postal seed is a ZIP / postcode prefix.
PLACES = {
    "US": [("New York", "NY", "New York", "100"), ("Los Angeles", "CA", "California", "900"),
           ("San Francisco", "CA", "California", "941"), ("Chicago", "IL", "Illinois", "606"),
           ("Houston", "TX", "Texas", "770"), ("Phoenix", "AZ", "Arizona", "850"),
           ("Boston", "MA", "Massachusetts", "021"), ("Newark", "NJ", "New Jersey", "071"),
           ("Seattle", "WA", "Washington", "981"), ("Miami", "FL", "Florida", "331"),
           ("Denver", "CO", "Colorado", "802"), ("Saint Louis", "MO", "Missouri", "631"),
           ("Portland", "OR", "Oregon", "972"), ("Atlanta", "GA", "Georgia", "303")],
    "GB": [("London", "", "Greater London", "SW1A"), ("Manchester", "", "Greater Manchester", "M1"),
           ("Birmingham", "", "West Midlands", "B1"), ("Edinburgh", "", "City of Edinburgh", "EH1"),
           ("Leeds", "", "West Yorkshire", "LS1"), ("Cardiff", "", "Cardiff", "CF10"),
           ("Bristol", "", "Bristol", "BS1"), ("Glasgow", "", "Glasgow City", "G1")],
    "CA": [("Toronto", "ON", "Ontario", "M5V"), ("Montréal", "QC", "Québec", "H2X"),
           ("Vancouver", "BC", "British Columbia", "V6B"), ("Calgary", "AB", "Alberta", "T2P"),
           ("Ottawa", "ON", "Ontario", "K1A"), ("Halifax", "NS", "Nova Scotia", "B3H")],
    "DE": [("Berlin", "BE", "Berlin", "101"), ("München", "BY", "Bayern", "803"),
           ("Köln", "NW", "Nordrhein-Westfalen", "506"), ("Hamburg", "HH", "Hamburg", "203"),
           ("Frankfurt am Main", "HE", "Hessen", "603"), ("Düsseldorf", "NW", "NRW", "402")],
    "FR": [("Paris", "", "Île-de-France", "750"), ("Lyon", "", "Auvergne-Rhône-Alpes", "690"),
           ("Marseille", "", "Provence-Alpes-Côte d'Azur", "130"), ("Lille", "", "Hauts-de-France",
           "590"), ("Saint-Étienne", "", "Auvergne-Rhône-Alpes", "420"),
           ("Toulouse", "", "Occitanie", "310")],
    "BR": [("São Paulo", "SP", "São Paulo", "01310"), ("Rio de Janeiro", "RJ", "Rio de Janeiro",
           "20040"), ("Belo Horizonte", "MG", "Minas Gerais", "30130")],
}  # fmt: skip
STREETS = {
    "US": (["Main", "Oak", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
            "Sunset", "Lincoln", "Martin Luther King Jr", "5th", "Pine", "River"],
           ["St", "St.", "Street", "Ave", "Avenue", "Rd", "Road", "Blvd", "Dr", "Drive", "Ln"]),
    "GB": (["High", "Station", "Church", "Victoria", "Mill", "Queen's", "King", "Park", "London"],
           ["Street", "Road", "Lane", "Close", "Avenue", "Rd", "St"]),
    "CA": (["Yonge", "King", "Queen", "Bloor", "Sainte-Catherine", "Granville", "Main", "Elgin"],
           ["St", "Street", "Ave", "Rd", "Blvd", "Crescent"]),
    "DE": (["Haupt", "Bahnhof", "Schul", "Garten", "Berg", "Linden", "Goethe", "Schiller"],
           ["straße", "str.", "strasse", "weg", "allee"]),
    "FR": (["de la Paix", "Victor Hugo", "de la République", "des Lilas", "Jean Jaurès",
            "du Moulin"],
           ["rue", "avenue", "boulevard", "allée", "place"]),
    "BR": (["das Flores", "Augusta", "Paulista", "XV de Novembro"], ["Rua", "Avenida", "Av."]),
}  # fmt: skip
UNITS = ["Apt 4B", "Apt. 12", "#12", "Suite 200", "Unit 3", "Fl 2", "apt 7c"]
DOMAINS = [
    "example.com", "example.org", "example.net", "mail.example.com", "post.example.org",
    "inbox.example.net", "mx.example", "customers.example", "shop.example.com", "EXAMPLE.COM",
]  # fmt: skip
TAGS = ["+news", "+shop", "+promo2024", "+crm"]
BAD_EMAILS = ["{l}.example.com", "{l}@@example.com", "{l}@example", "{l}@", "@example.org",
              "{l} @ example .com", "n/a", "unknown"]  # fmt: skip
BAD_PHONES = ["12345", "000-000-0000", "n/a", "555-CALL-NOW", "+1 (555)", "1111111111111111"]
BAD_DATES = ["N/A", "31/12/2024", "2024-02-30", "yesterday"]
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
TIER_SHARES = [0.41, 0.30, 0.20, 0.09]
# Phone plans: (national prefixes, digits after the prefix) and the country calling code.
PHONE_PLANS = {
    "US": (["201", "212", "305", "312", "415", "503", "602", "617", "713", "720", "773", "818",
            "404", "206", "213", "314", "646", "702", "916", "973"], 7, "1"),
    "CA": (["416", "604", "514", "403", "613", "780", "902", "306", "647", "438"], 7, "1"),
    "GB": (["7400", "7500", "7723", "7800", "7900", "7830", "7712", "7535"], 6, "44"),
    "DE": (["151", "152", "157", "159", "160", "170", "171", "176"], 8, "49"),
    "FR": (["61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78"], 7, "33"),
    "BR": (["11 9", "21 9", "31 9"], 8, "55"),
}  # fmt: skip


def _ascii(name: str) -> str:
    """Email-local-part form of a name: accents dropped, only a-z and '-' kept."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalpha() or ch == "-")


@dataclass(frozen=True)
class ExportInfo:
    """What write_sample_export produced."""

    path: Path
    rows: int
    duplicate_rows: int


def write_sample_export(
    path: str | os.PathLike,
    rows: int,
    seed: int = 0,
    export_date: dt.date | None = None,
    *,
    unique_ids: bool = False,
) -> ExportInfo:
    """Write a messy CRM export of `rows` rows to CSV, or gzip CSV if the name ends in .gz.

    With unique_ids, every email and phone is distinct (also after normalization) and no row is
    duplicated: the benchmark's shape. Written to a temporary name, then renamed."""
    path = Path(path)
    export_date = export_date or dt.date.today()
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    duplicates = 0
    try:
        with _open_sink(tmp, gzipped=path.suffix == ".gz") as sink:
            if rows == 0:
                sink.write(_csv_bytes(_schema().empty_table(), header=True))
            for data, dupes in _csv_chunks(rows, seed, export_date, unique_ids):
                sink.write(data)  # gzip (zlib) releases the GIL: overlaps the workers
                duplicates += dupes
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportInfo(path=path, rows=rows, duplicate_rows=duplicates)


def sample_table(
    rows: int, seed: int = 0, export_date: dt.date | None = None, *, unique_ids: bool = False
) -> pa.Table:
    """The same rows write_sample_export writes, in memory (for tests and small demos)."""
    export_date = export_date or dt.date.today()
    tables = [t for t, _ in _chunks(rows, seed, export_date, unique_ids)]
    return pa.concat_tables(tables) if tables else _schema().empty_table()


def _csv_chunks(
    rows: int, seed: int, export_date: dt.date, unique_ids: bool
) -> Iterator[tuple[bytes, int]]:
    """CSV bytes of each chunk, in order; chunks are made on two threads (numpy and Arrow
    kernels release the GIL), at most a few ahead so memory stays bounded."""

    def make(index: int, start: int) -> tuple[bytes, int]:
        rng = np.random.default_rng([seed, index])
        count = min(CHUNK_ROWS, rows - start)
        table, dupes = _chunk(rng, start, count, export_date, unique_ids)
        return _csv_bytes(table, header=index == 0), dupes

    with ThreadPoolExecutor(WORKERS) as pool:
        ahead: deque = deque()
        for index, start in enumerate(range(0, rows, CHUNK_ROWS)):
            ahead.append(pool.submit(make, index, start))
            if len(ahead) > WORKERS:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def _open_sink(path: Path, gzipped: bool) -> BinaryIO:
    # gzip level 1: several times faster than the default level and only slightly larger
    return gzip.open(path, "wb", compresslevel=1) if gzipped else open(path, "wb")  # noqa: SIM115


def _csv_bytes(table: pa.Table, header: bool) -> bytes:
    buffer = pa.BufferOutputStream()
    options = pacsv.WriteOptions(include_header=header, quoting_style="needed")
    pacsv.write_csv(table, buffer, write_options=options)
    return buffer.getvalue().to_pybytes()


def _schema() -> pa.Schema:
    return pa.schema([(name, pa.string()) for name in EXPORT_COLUMNS])


def _chunks(
    rows: int, seed: int, export_date: dt.date, unique_ids: bool
) -> Iterator[tuple[pa.Table, int]]:
    for index, start in enumerate(range(0, rows, CHUNK_ROWS)):
        count = min(CHUNK_ROWS, rows - start)
        yield _chunk(np.random.default_rng([seed, index]), start, count, export_date, unique_ids)


def _chunk(rng, start: int, count: int, export_date: dt.date, unique_ids: bool):
    """One chunk: rows are drawn per country layout, then put back in the drawn row order."""
    written = list(COUNTRY_SHARES)
    country_idx = rng.choice(len(written), count, p=list(COUNTRY_SHARES.values()))
    layout = np.array([LAYOUTS.index(LAYOUT[w]) for w in written])[country_idx]
    row_ids = np.arange(start, start + count, dtype=np.int64)
    groups, order = [], []
    for number, name in enumerate(LAYOUTS):
        members = np.flatnonzero(layout == number)
        order.append(members)
        countries = np.array(written, dtype=object)[country_idx[members]]
        group = _Group(rng, name, row_ids[members], countries, export_date, unique_ids)
        groups.append(group.table())
    back = np.argsort(np.concatenate(order), kind="stable")  # group order -> drawn order
    table = pa.concat_tables(groups).take(pa.array(back))
    if unique_ids:
        return table, 0
    return _duplicate_some(rng, table)


def _duplicate_some(rng, table: pa.Table) -> tuple[pa.Table, int]:
    """Replace a few rows with exact copies of an earlier row of the chunk."""
    order = np.arange(table.num_rows)
    dupes = np.flatnonzero(rng.random(table.num_rows) < RATES["duplicate_row"])
    dupes = dupes[dupes > 0]
    order[dupes] = (rng.random(len(dupes)) * dupes).astype(np.int64)
    return table.take(pa.array(order)), len(dupes)


class _Group:
    """The rows of one chunk that share a country layout; every column is one array operation."""

    def __init__(self, rng, layout, row_ids, countries, export_date, unique_ids):
        self.rng, self.layout, self.row_id = rng, layout, row_ids
        self.n = len(row_ids)
        self.written_country = countries
        self.export_date, self.unique_ids = export_date, unique_ids

    # -- helpers --------------------------------------------------------------------------
    def mask(self, rate: float) -> pa.Array:
        return pa.array(self.rng.random(self.n) < rate)

    def pick(self, values: list[str], p=None) -> pa.Array:
        return pa.array(values, pa.string()).take(
            pa.array(self.rng.choice(len(values), self.n, p=p))
        )

    def choose(self, shapes: list[pa.Array]) -> pa.Array:
        return pc.choose(pa.array(self.rng.integers(0, len(shapes), self.n), pa.int8()), *shapes)

    def shape_parts(self, shapes: list[tuple[str, ...]]) -> list[pa.Array]:
        """Draw one shape per row; return, per position, the array of that shape's literal."""
        idx = pa.array(self.rng.integers(0, len(shapes), self.n))
        return [pa.array(list(column)).take(idx) for column in zip(*shapes, strict=True)]

    def digits(self, width: int) -> pa.Array:
        return _pad(self.rng.integers(0, 10**width, self.n), width)

    # -- columns --------------------------------------------------------------------------
    def table(self) -> pa.Table:
        first, first_ascii = self.names(FIRST_NAMES[self.layout])
        last, last_ascii = self.names(LAST_NAMES[self.layout])
        city, state, postal = self.places()
        columns = {
            "Email": self.emails(first_ascii, last_ascii),
            "Phone Number": self.phones(),
            "First Name": self.messy_name(first),
            "Last Name": self.messy_name(last),
            "Street Address": self.addresses(),
            "City": self.messy_case(city, upper=0.03, lower=0.05),
            "State/Region": state,
            "Postal Code": postal,
            "Country/Region": self.countries(),
            "Loyalty Tier": self.tiers(),
            "Lifetime Value": self.values(),
            "Last Order Date": self.dates(),
        }
        return pa.table([columns[c] for c in EXPORT_COLUMNS], schema=_schema())

    def names(self, names: list[str]) -> tuple[pa.Array, pa.Array]:
        """Names from the layout's list, and their ASCII email form."""
        idx = pa.array(self.rng.integers(0, len(names), self.n))
        folded = pa.array([_ascii(n) for n in names])
        return pa.array(names).take(idx), folded.take(idx)

    def emails(self, first: pa.Array, last: pa.Array) -> pa.Array:
        j = pc.binary_join_element_wise
        initial = pc.utf8_slice_codeunits(first, 0, 1)
        shape = pa.array(self.rng.integers(0, 4, self.n), pa.int8())
        head = pc.choose(shape, first, initial, first, last)
        tail = pc.choose(shape, last, last, last, first)
        local = j(head, tail, pa.array([".", "", "_", "."]).take(shape))
        if self.unique_ids:
            number = pc.cast(pa.array(self.row_id), pa.string())
        else:
            random_number = pc.cast(pa.array(self.rng.integers(1, 999, self.n)), pa.string())
            number = pc.if_else(self.mask(0.6), random_number, "")
        local = j(local, number, "")
        tag = pc.if_else(self.mask(RATES["email_plus_tag"]), self.pick(TAGS), "")
        email = j(local, tag, "@", self.pick(DOMAINS), "")
        email = self.sometimes(email, RATES["email_upper"], pc.utf8_upper)
        email = self.sometimes(email, RATES["email_capitalized"], pc.utf8_capitalize)
        bad = [b for b in BAD_EMAILS if b.startswith("{l}")] if self.unique_ids else BAD_EMAILS
        template = self.pick(bad)  # "{l}" stands for the row's local part
        rest = pc.replace_substring(template, "{l}", "")
        invalid = pc.if_else(pc.starts_with(template, "{l}"), j(local, rest, ""), template)
        email = pc.if_else(self.mask(RATES["email_invalid"]), invalid, email)
        return self.blank(self.stray_spaces(email), RATES["email_blank"])

    def phones(self) -> pa.Array:
        prefixes, width, calling = PHONE_PLANS[self.layout]
        if self.unique_ids:  # bijective in the row id within a layout: never repeats
            prefix_idx = self.row_id % len(prefixes)
            rest = self.row_id // len(prefixes)
        else:
            prefix_idx = self.rng.integers(0, len(prefixes), self.n)
            rest = self.rng.integers(0, 10**width, self.n)
        prefix = pa.array(prefixes).take(pa.array(prefix_idx))
        if self.layout in ("US", "CA"):  # exchange 200-999, line 0000-9999
            exchange = _pad(200 + (rest // 10_000) % 800, 3)
            phone = self.nanp_formats(prefix, exchange, _pad(rest % 10_000, 4))
        else:
            phone = self.international_formats(prefix, _pad(rest % 10**width, width), calling)
        phone = pc.if_else(self.mask(RATES["phone_invalid"]), self.pick(BAD_PHONES), phone)
        return self.blank(self.stray_spaces(phone), RATES["phone_blank"])

    def nanp_formats(self, area: pa.Array, exchange: pa.Array, line: pa.Array) -> pa.Array:
        lead, mid, tail = self.shape_parts([
            ("(", ") ", "-"),  # (415) 555-0123
            ("", "-", "-"),  # 415-555-0123
            ("", ".", "."),  # 415.555.0123
            ("+1 ", " ", " "),  # +1 415 555 0123
            ("1", "", ""),  # 14155550123
            ("+1", "", ""),  # +14155550123
            ("", "", ""),  # 4155550123
        ])  # fmt: skip
        return pc.binary_join_element_wise(lead, area, mid, exchange, tail, line, "")

    def international_formats(self, prefix, subscriber, calling) -> pa.Array:
        j = pc.binary_join_element_wise
        national_first = self.layout != "FR"  # FR national numbers are written in pairs
        shapes = [("+", calling, " ", " "), ("+", calling, "", "")]  # +44 7400 123456, +447400..
        if self.layout != "BR":  # "00" is the international prefix in GB, DE, FR (not BR)
            shapes.append(("00", calling, " ", " "))
        if national_first:
            shapes.append(("0", "", "", " "))  # 07400 123456
        lead, code, sep1, sep2 = self.shape_parts(shapes)
        if self.layout == "FR":  # 06 12 34 56 78 / +33 6 12345678
            full = j(prefix, subscriber, "")
            cuts = ((0, 1), (1, 3), (3, 5), (5, 7), (7, 9), (1, 9))
            part = [pc.utf8_slice_codeunits(full, a, b) for a, b in cuts]
            national = j("0", part[0], " ", part[1], " ", part[2], " ", part[3], " ", part[4], "")
            prefix, subscriber = part[0], part[5]
        phone = j(lead, code, sep1, prefix, sep2, subscriber, "")
        if self.layout == "FR":
            phone = pc.if_else(self.mask(0.4), national, phone)
        return phone

    def messy_name(self, name: pa.Array) -> pa.Array:
        name = self.messy_case(name, RATES["name_upper"], RATES["name_lower"])
        return self.blank(self.stray_spaces(name), RATES["name_blank"])

    def addresses(self) -> pa.Array:
        j = pc.binary_join_element_wise
        names, kinds = STREETS[self.layout]
        street, kind = self.pick(names), self.pick(kinds)
        number = pc.cast(pa.array(self.rng.integers(1, 9_999, self.n)), pa.string())
        if self.layout == "DE":
            address = j(street, kind, " ", number, "")
        elif self.layout in ("FR", "BR"):
            address = j(number, " ", kind, " ", street, "")
        else:
            line = j(number, " ", street, " ", kind, "")
            with_unit = j(line, self.pick(UNITS), " ")
            address = pc.if_else(self.mask(RATES["address_unit"]), with_unit, line)
        address = self.messy_case(address, upper=0.04, lower=0.04)
        return self.blank(self.stray_spaces(address), RATES["address_blank"])

    def places(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        places = PLACES[self.layout]
        idx = pa.array(self.rng.integers(0, len(places), self.n))
        city, code, name, seed = (
            pa.array(list(col)).take(idx) for col in zip(*places, strict=True)
        )
        state = pc.if_else(pc.or_(self.mask(0.5), pc.equal(code, "")), name, code)
        state = self.messy_case(state, upper=0.05, lower=0.05)
        blank_state = 0.5 if self.layout in ("GB", "FR") else 0.02  # often empty outside N. America
        postal = self.blank(self.stray_spaces(self.postal(seed)), 0.03)
        return city, self.blank(state, blank_state), postal

    def postal(self, seed: pa.Array) -> pa.Array:
        j = pc.binary_join_element_wise
        if self.layout == "US":
            zip5 = j(seed, self.digits(2), "")
            zip9 = pc.if_else(self.mask(RATES["zip_plus4"]), j(zip5, self.digits(4), "-"), zip5)
            lost = pc.and_(self.mask(RATES["zip_lost_zero"] * 10), pc.starts_with(zip9, "0"))
            return pc.if_else(lost, pc.utf8_slice_codeunits(zip9, 1), zip9)  # Excel ate the 0
        if self.layout in ("GB", "CA"):
            letters = list("ABDEFGHJLNPQRSTUWXYZ")
            if self.layout == "GB":  # outward code + digit letter letter
                inward = j(self.digits(1), self.pick(letters), self.pick(letters), "")
            else:  # forward sortation area + digit letter digit
                inward = j(self.digits(1), self.pick(letters), self.digits(1), "")
            spaced = pc.if_else(
                self.mask(RATES["postcode_no_space"]), j(seed, inward, ""), j(seed, inward, " ")
            )
            return pc.if_else(self.mask(RATES["postcode_lower"]), pc.utf8_lower(spaced), spaced)
        if self.layout == "BR":
            return j(seed, "-", self.digits(3), "")
        return j(seed, self.digits(2), "")  # DE, FR: 5 digits

    def countries(self) -> pa.Array:
        written = pa.array(self.written_country.tolist(), pa.string())
        written = pc.if_else(self.mask(RATES["country_lower"]), pc.utf8_lower(written), written)
        written = self.stray_spaces(written)
        return pc.if_else(pc.equal(written, ""), pa.scalar(None, pa.string()), written)

    def tiers(self) -> pa.Array:
        tier = self.messy_case(
            self.pick(TIERS, p=TIER_SHARES), upper=0.02, lower=RATES["tier_lower"]
        )
        return self.blank(tier, RATES["tier_blank"])

    def values(self) -> pa.Array:
        cents = np.round(self.rng.gamma(1.5, 24_000, self.n)).astype(np.int64)
        cents[self.rng.random(self.n) < 0.03] = 0
        dollars = pc.cast(pa.array(cents // 100), pa.string())
        text = pc.binary_join_element_wise(dollars, _pad(cents % 100, 2), ".")
        return self.blank(text, RATES["value_blank"])

    def dates(self) -> pa.Array:
        base = (self.export_date - dt.date(1970, 1, 1)).days
        days = pa.array(base - self.rng.integers(0, 730, self.n).astype(np.int32), pa.int32())
        text = pc.cast(days.cast(pa.date32()), pa.string())
        text = pc.if_else(self.mask(RATES["date_unparsable"]), self.pick(BAD_DATES), text)
        return self.blank(text, RATES["date_blank"])

    # -- mess -----------------------------------------------------------------------------
    def sometimes(self, values: pa.Array, rate: float, change) -> pa.Array:
        """`change` applied to a `rate` share of rows; computed on those rows only."""
        mask = self.mask(rate)
        return pc.replace_with_mask(values, mask, change(values.filter(mask)))

    def messy_case(self, values: pa.Array, upper: float, lower: float) -> pa.Array:
        values = self.sometimes(values, upper, pc.utf8_upper)
        return self.sometimes(values, lower, pc.utf8_lower)

    def stray_spaces(self, values: pa.Array) -> pa.Array:
        pad = lambda part: pc.binary_join_element_wise(" ", part, "  ", "")  # noqa: E731
        return self.sometimes(values, RATES["stray_spaces"], pad)

    def blank(self, values: pa.Array, rate: float) -> pa.Array:
        return pc.if_else(self.mask(rate), pa.scalar(None, pa.string()), values)


def _pad(numbers: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
