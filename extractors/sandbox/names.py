"""People and companies as pure functions of an integer key, vectorised.

Uniqueness is by construction so that the true identity clusters are exactly the injected
duplicates: a company's normalised identity (city + core + industry, or prefix + mid +
qualifier + noun + place) is a bijection of its key, emails live on the company's unique
domain, and mobile numbers are a bijection of the person key over 10^8.
Guaranteed collision-free for company keys < 1.9M (English) / 4.6M (Chinese), i.e. up to
scale ~100; beyond that English company names may repeat.
"""

from __future__ import annotations

import numpy as np

from . import pools as P
from .pools import Hasher, to_fullwidth

EN_QUAL = ["Digital", "Precision", "Advanced", "United", "Smart", "Global", "Applied", "Integrated",
           "Dynamic", "Modern", "First", "Prime", "Green", "Micro", "Bio", "Aero", "Marine", "Urban",
           "Clear", "Rapid"]
EN_PLACES = [("Singapore", "sg", "Pte. Ltd.", 5), ("Hong Kong", "hk", "Co., Ltd.", 2),
             ("Hamburg", "hh", "GmbH", 0), ("Munich", "mu", "GmbH", 0), ("London", "ld", "Ltd.", 3),
             ("San Jose", "sj", "Inc.", 1), ("Tokyo", "tk", "Co., Ltd.", 6), ("Paris", "pa", "SAS", 6)]
N_CN = len(P.CN_CITIES) * len(P.CN_CORE) ** 2 * len(P.CN_INDUSTRY)
N_EN = len(P.EN_PREFIX) * len(P.EN_MID) * len(EN_QUAL) * len(P.EN_NOUN) * len(EN_PLACES)
EN_SHARE = 0.12  # share of English-named (overseas) companies and people
REGIONS = ["华东", "华北", "华南", "海外"]
_A_CN, _B_CN = 2_654_435_761 % N_CN | 1, 12_345
_A_EN, _B_EN = 40_503 * 7 + 2, 777
_A_PH, _B_PH = 48_271_013, 9_876_543


def _coprime(a: int, n: int) -> int:
    import math

    while math.gcd(a, n) != 1:
        a += 1
    return a


_A_CN = _coprime(_A_CN, N_CN)
_A_EN = _coprime(_A_EN, N_EN)
_A_PH = _coprime(_A_PH, 10**8)


_CITY = [c for c, _ in P.CN_CITIES]
_CITY_PY = [f"-{py}.com.cn" for _, py in P.CN_CITIES]
_IND = [c for c, _ in P.CN_INDUSTRY]
_IND_PY = [f"-{py}" for _, py in P.CN_INDUSTRY]
_PAIR = [a + b for a, _ in P.CN_CORE for b, _ in P.CN_CORE]
_PAIR_PY = [pa + pb for _, pa in P.CN_CORE for _, pb in P.CN_CORE]


_CN_NAME = [sc + gc for sc, _ in P.CN_SURNAMES for gc, _ in P.CN_GIVEN]
_CN_LOCAL = [[f"{gp}.{sp}@" for _, sp in P.CN_SURNAMES for _, gp in P.CN_GIVEN],
             [f"{sp}{gp}@" for _, sp in P.CN_SURNAMES for _, gp in P.CN_GIVEN]]
_MOBILE_INT = np.array([int(p) for p in P.MOBILE_PREFIXES], dtype=np.int64)


def _digits(m: np.ndarray, radices: list[int]) -> list[np.ndarray]:
    out = []
    for r in radices:
        out.append(m % r)
        m = m // r
    return out


class Identity:
    """Names, companies, phones and emails for a seed."""

    def __init__(self, seed: int) -> None:
        self.h = Hasher(seed, "identity")

    # --- companies ---
    def company_is_en(self, ckey: np.ndarray) -> np.ndarray:
        return self.h.u01("company.lang", ckey) < EN_SHARE

    def company_region(self, ckey: np.ndarray) -> np.ndarray:
        """0..2 Chinese regions by city, 3 = overseas."""
        cn = (ckey.astype(np.int64) * _A_CN + _B_CN) % N_CN
        city = cn % len(P.CN_CITIES)
        return np.where(self.company_is_en(ckey), 3, city % 3).astype(np.int8)

    def companies(self, ckey: np.ndarray) -> tuple[list[str], list[str], np.ndarray]:
        """(legal name, email domain, is_en) per company key."""
        ckey = ckey.astype(np.int64)
        n = len(ckey)
        is_en = self.company_is_en(ckey)
        suf = self.h.choice("company.suffix", ckey, [0.6, 0.25, 0.15]).tolist()
        names: list[str] = [""] * n
        domains: list[str] = [""] * n
        cn_rows = np.flatnonzero(~is_en)
        cn = (ckey[cn_rows] * _A_CN + _B_CN) % N_CN
        city, c1, c2, ind = _digits(cn, [len(P.CN_CITIES), len(P.CN_CORE), len(P.CN_CORE), len(P.CN_INDUSTRY)])
        pair = (c1 * len(P.CN_CORE) + c2).tolist()
        for i, ci, pr, d in zip(cn_rows.tolist(), city.tolist(), pair, ind.tolist()):
            names[i] = _CITY[ci] + _PAIR[pr] + _IND[d] + P.CN_SUFFIXES[suf[i]]
            domains[i] = _PAIR_PY[pr] + _IND_PY[d] + _CITY_PY[ci]
        en_rows = np.flatnonzero(is_en)
        if len(en_rows):
            en = (ckey[en_rows] * _A_EN + _B_EN) % N_EN
            pre, mid, qual, noun, place = _digits(
                en, [len(P.EN_PREFIX), len(P.EN_MID), len(EN_QUAL), len(P.EN_NOUN), len(EN_PLACES)])
            for i, p, m, q, o, pl in zip(en_rows.tolist(), pre.tolist(), mid.tolist(), qual.tolist(),
                                         noun.tolist(), place.tolist()):
                place_name, code, suffix, _ = EN_PLACES[pl]
                stem = f"{P.EN_PREFIX[p]}{P.EN_MID[m]}"
                names[i] = f"{stem} {EN_QUAL[q]} {P.EN_NOUN[o]} ({place_name}) {suffix}"
                domains[i] = f"{stem}{EN_QUAL[q]}{P.EN_NOUN[o]}-{code}.com".lower()
        return names, domains, is_en

    def tax_ids(self, ckey: np.ndarray) -> list[str]:
        """18-char unified social credit codes with a valid GB 32100-2015 check character."""
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        weights = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
        area = self.h.int("tax.area", ckey, 110000, 660000)
        body = self.h.u64("tax.body", ckey)
        codes = np.empty((len(ckey), 17), np.int64)
        codes[:, 0], codes[:, 1] = 9, 1
        for d in range(6):  # area code digits, most significant first
            codes[:, 2 + d] = area // 10 ** (5 - d) % 10
        for d in range(9):
            codes[:, 8 + d] = (body % np.uint64(31)).astype(np.int64)
            body = body // np.uint64(31)
        check = (31 - (codes * weights).sum(axis=1) % 31) % 31
        table = np.array(list(alphabet))
        chars = table[np.concatenate([codes, check[:, None]], axis=1)]
        return ["".join(row) for row in chars.tolist()]

    # --- people ---
    def people(self, pkey: np.ndarray, is_en: np.ndarray, domains: list[str], style: int = 0
               ) -> tuple[list[str], list[str], list[str]]:
        """(name, email, phone) per person key; `style` 1 gives a second email format."""
        pkey = pkey.astype(np.int64)
        n = len(pkey)
        names: list[str] = [""] * n
        emails: list[str] = [""] * n
        phones: list[str] = [""] * n
        mob8 = ((pkey * _A_PH + _B_PH) % 10**8).tolist()
        cn_rows = np.flatnonzero(~is_en)
        cp = pkey[cn_rows]
        combo = (self.h.int("person.sur", cp, 0, len(P.CN_SURNAMES)) * len(P.CN_GIVEN)
                 + self.h.int("person.giv", cp, 0, len(P.CN_GIVEN))).tolist()
        mpre = _MOBILE_INT[self.h.int("person.mpre", cp, 0, len(P.MOBILE_PREFIXES))]
        # Mobile prefixes have no leading zero, so the 11-digit number is one integer.
        mobiles = (mpre * 10**8 + (cp * _A_PH + _B_PH) % 10**8).astype(str).tolist()
        local = _CN_LOCAL[style]
        for i, c, mob in zip(cn_rows.tolist(), combo, mobiles):
            names[i] = _CN_NAME[c]
            emails[i] = local[c] + domains[i]
            phones[i] = mob
        en_rows = np.flatnonzero(is_en)
        if len(en_rows):
            ep = pkey[en_rows]
            fst = self.h.int("person.first", ep, 0, len(P.EN_FIRST)).tolist()
            lst = self.h.int("person.last", ep, 0, len(P.EN_LAST)).tolist()
            dial = self.h.int("person.dial", ep, 0, len(P.INTL_DIAL)).tolist()
            for i, f, la, di in zip(en_rows.tolist(), fst, lst, dial):
                first, last = P.EN_FIRST[f], P.EN_LAST[la]
                names[i] = f"{first} {last}"
                local = f"{first}.{last}" if style == 0 else f"{first[0]}{last}"
                emails[i] = f"{local.lower()}@{domains[i]}"
                code, width = P.INTL_DIAL[di]
                num = str(mob8[i]).zfill(8)
                phones[i] = f"{code} {(num * 2)[:width]}"
        return names, emails, phones


# --- spelling and format variants of duplicates ------------------------------------------


def phone_variant(phone: str, v: int) -> str:
    if phone.startswith("+"):
        code, _, rest = phone.partition(" ")
        forms = [f"00{code[1:]} {rest}", f"{code}{rest}", f"{code}-{rest[:3]}-{rest[3:]}",
                 f"{code} (0){rest}", f"({code}) {rest}"]
        return forms[v % len(forms)]
    a, b, c = phone[:3], phone[3:7], phone[7:]
    forms = [f"+86 {a} {b} {c}", f"0086-{a}-{b}-{c}", f"{a}-{b}-{c}", f"+86 (0){a} {b} {c}", f"+86{phone}"]
    return forms[v % len(forms)]


def email_variant(email: str, v: int) -> str:
    forms = [email.upper(), f" {email} ", email.capitalize(), f"{email.upper()}  "]
    return forms[v % len(forms)]


def name_variant(name: str, v: int) -> str:
    if " " in name:
        forms = [name.replace(" ", "  "), f" {name} ", name.upper()]
    else:
        forms = [f"{name[0]} {name[1:]}", f" {name} ", f"{name}　"]
    return forms[v % len(forms)]


_CN_SUFFIX_SWAPS = ["公司", "有限公司", "股份有限公司", " Co., Ltd."]
_EN_SUFFIX_SWAPS = ["Co., Ltd.", "Co. Ltd", "Limited", "Inc", "GmbH"]


def company_variant(company: str, v: int) -> str:
    """Full-width characters, suffix variants, extra spaces: all normalise to the original."""
    if company.isascii():
        forms = [to_fullwidth(company), company.upper(), "  ".join(company.split(" "))]
        base = company.rsplit(")", 1)[0] + ")"
        forms += [f"{base} {s}" for s in _EN_SUFFIX_SWAPS[:2]]
        return forms[v % len(forms)]
    stem = company
    for s in ("股份有限公司", "有限责任公司", "有限公司"):
        if stem.endswith(s):
            stem = stem[: -len(s)]
            break
    forms = [f"{stem}{s}" for s in _CN_SUFFIX_SWAPS if f"{stem}{s}" != company]
    forms += [f" {company}", f"{stem} {company[len(stem):]}"]
    return forms[v % len(forms)]
