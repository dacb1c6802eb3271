"""The truth manifest: what the sandbox injected and the exact figures (contract section 6).

Figures are computed from the skeleton (spine.py), the same state the records are built
from, with Decimal and ROUND_HALF_UP for money. See README.md for the schema.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import numpy as np

from . import timefmt as T
from .spine import (CHANNELS, CURRENCIES, FX_TO_CNY, OPP_NEGATIVE, OPP_NO_CLOSE, OPP_NO_OWNER, OPP_ORPHAN,
                    STATUS_LOST, STATUS_WON)

if TYPE_CHECKING:
    from .world import World

CENT = Decimal("0.01")


def valid_opps(w: World) -> np.ndarray:
    O = w.spine.opps
    return (O.bad == 0) & ~O.deleted


def valid_leads(w: World) -> np.ndarray:
    L = w.spine.leads
    return (L.bad == 0) & ~L.deleted


def funnel(w: World) -> tuple[int, dict[str, dict[str, int]]]:
    """Clusters of valid leads; a cluster's channel is its earliest lead's; steps if any member reached."""
    L, O = w.spine.leads, w.spine.opps
    v = np.flatnonzero(valid_leads(w))
    vo = valid_opps(w)
    has_opp = L.opp[v] >= 0
    opp_ok = np.zeros(len(v), bool)
    opp_ok[has_opp] = vo[L.opp[v][has_opp]]
    won = np.zeros(len(v), bool)
    won[opp_ok] = O.status[L.opp[v][opp_ok]] == STATUS_WON
    steps = np.stack([L.mql_t[v] > 0, L.sql_t[v] > 0, opp_ok, won], axis=1)
    person = L.person[v]
    order = np.lexsort((L.ct[v], person))  # by person, then creation: first of a group = earliest
    person_s = person[order]
    starts = np.flatnonzero(np.concatenate([[True], person_s[1:] != person_s[:-1]]))
    channel = L.channel[v][order][starts]
    reached = np.logical_or.reduceat(steps[order], starts, axis=0) if len(starts) else np.zeros((0, 4), bool)
    out = {}
    for c, name in enumerate(CHANNELS):
        m = channel == c
        out[name] = {"leads": int(m.sum()), "mql": int(reached[m, 0].sum()), "sql": int(reached[m, 1].sum()),
                     "opportunity": int(reached[m, 2].sum()), "won": int(reached[m, 3].sum())}
    return len(starts), out


def to_cny(cents: int, currency: str) -> Decimal:
    return (Decimal(int(cents)) / 100 * Decimal(FX_TO_CNY[currency])).quantize(CENT, rounding=ROUND_HALF_UP)


def revenue_and_win_rate(w: World) -> dict:
    O = w.spine.opps
    vo = valid_opps(w)
    won_idx = np.flatnonzero(vo & (O.status == STATUS_WON))
    lost = int((vo & (O.status == STATUS_LOST)).sum())
    months = T.shanghai_month(O.close[won_idx])
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for m, cents, cur in zip(months, O.amount[won_idx].tolist(), O.cur[won_idx].tolist()):
        by_month[m] += to_cny(cents, CURRENCIES[cur])
    won = len(won_idx)
    rate = (Decimal(won) / Decimal(won + lost)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if won + lost else None
    return {"won_revenue_by_month": {m: str(by_month[m]) for m in sorted(by_month)},
            "win_rate": None if rate is None else str(rate), "won": won, "lost": lost}


def _ids(w: World, stream: str, rows: np.ndarray) -> list:
    return w.ids(stream, np.asarray(rows, dtype=np.int64))


def defects(w: World) -> dict[str, dict[str, list]]:
    s = w.spine
    L, O, C, Cu = s.leads, s.opps, s.contacts, s.customers
    idx = np.arange
    d: dict[str, dict[str, list]] = defaultdict(dict)
    d["identity_duplicate"]["crm_leads"] = _ids(w, "crm_leads", np.flatnonzero(L.person != idx(L.n)))
    d["identity_duplicate"]["crm_contacts"] = _ids(w, "crm_contacts", np.flatnonzero(C.dup))
    d["identity_duplicate"]["erp_customers"] = _ids(w, "erp_customers", np.flatnonzero(Cu.dup))
    d["missing_required"]["crm_leads"] = _ids(w, "crm_leads", np.flatnonzero(L.bad > 0))
    d["missing_required"]["crm_opportunities"] = _ids(
        w, "crm_opportunities", np.flatnonzero(np.isin(O.bad, [OPP_NO_OWNER, OPP_NO_CLOSE])))
    d["invalid_value"]["crm_opportunities"] = _ids(w, "crm_opportunities", np.flatnonzero(O.bad == OPP_NEGATIVE))
    d["orphan"]["crm_opportunities"] = _ids(w, "crm_opportunities", np.flatnonzero(O.bad == OPP_ORPHAN))
    d["orphan"]["erp_sales_orders"] = _ids(w, "erp_sales_orders", np.flatnonzero(s.orders.cust < 0))
    d["orphan"]["erp_payments"] = _ids(w, "erp_payments", np.flatnonzero(s.payments.inv < 0))
    deleted = {
        "crm_leads": L.deleted, "crm_accounts": s.accounts.deleted, "crm_contacts": C.deleted,
        "crm_opportunities": O.deleted, "crm_opportunity_stage_changes": s.sc.deleted,
        "crm_activities": s.acts.deleted, "mkt_campaigns": s.camp.archived, "mkt_form_submissions": s.subs.archived,
        "mkt_engagement_events": s.events.archived, "mkt_campaign_daily_metrics": s.metrics.archived,
        "erp_customers": ~Cu.active, "erp_sales_orders": s.orders.state == 3, "erp_invoices": s.invoices.cancel,
        "erp_payments": s.payments.cancel,
    }
    for t, mask in deleted.items():
        rows = np.flatnonzero(mask)
        if t == "mkt_form_submissions":
            rows = np.flatnonzero(np.isin(s.sub_rows, rows))
            ids = sorted(set(_ids(w, t, rows)))
        else:
            ids = _ids(w, t, rows)
        d["deleted"][t] = ids
    d["deleted"]["erp_products"] = [r["id"] for r in w.iter_records("erp_products") if not r["active"]]
    twice = np.flatnonzero(np.bincount(s.sub_rows, minlength=s.subs.n) > 1)
    d["duplicate_id"]["mkt_form_submissions"] = [str(300_000_000 + i) for i in twice.tolist()]
    d["late_update"] = {t: sorted(_ids(w, t, np.array(sorted(ids)))) for t, ids in w.late_updates.items() if ids}
    return {k: dict(v) for k, v in d.items()}


def _clusters(w: World, stream: str, key: np.ndarray) -> list[list]:
    """Groups of rows sharing a true identity key, size >= 2, as wire ids."""
    order = np.argsort(key, kind="stable")
    ks = key[order]
    starts = np.flatnonzero(np.concatenate([[True], ks[1:] != ks[:-1]]))
    sizes = np.diff(np.concatenate([starts, [len(ks)]]))
    out = []
    for st, sz in zip(starts.tolist(), sizes.tolist()):
        if sz >= 2:
            out.append(_ids(w, stream, order[st:st + sz]))
    return out


def clusters(w: World) -> dict:
    s = w.spine
    contact_key = np.where(s.contacts.dup, np.arange(s.contacts.n) - 1, np.arange(s.contacts.n))
    return {
        "crm_leads": _clusters(w, "crm_leads", s.leads.person),
        "crm_contacts": _clusters(w, "crm_contacts", contact_key),
        "erp_customers": _clusters(w, "erp_customers", s.customers.acc.astype(np.int64)),
    }


def identities(w: World) -> dict[str, int]:
    """Distinct true identities among all records (deleted and invalid ones included)."""
    s = w.spine
    return {"crm_leads": int(len(np.unique(s.leads.person))),
            "crm_contacts": int(s.contacts.n - s.contacts.dup.sum()),
            "erp_customers": int(len(np.unique(s.customers.acc)))}


def links(w: World) -> dict:
    s = w.spine
    Cu = s.customers
    acc_ids = w.crm.ids("crm_accounts", Cu.acc.astype(np.int64))
    cust_ids = _ids(w, "erp_customers", np.arange(Cu.n))
    by = ["name" if nv else "vat" for nv in Cu.no_vat.tolist()]
    return {"account_customer": [[a, c, b] for a, c, b in zip(acc_ids, cust_ids, by)]}


def build_truth(w: World) -> dict:
    people, fun = funnel(w)
    figures = {"distinct_people": people, "funnel_by_channel": fun, **revenue_and_win_rate(w),
               "reporting_currency": "CNY", "fx_rates_to_cny": dict(FX_TO_CNY)}
    return {
        "seed": w.seed, "scale": w.scale, "epoch": w.epoch,
        "as_of": T.ms_to_iso(w.as_of_ms), "as_of_ms": w.as_of_ms,
        "served_counts": {t: w.count(t) for t in w.streams()},
        "defects": defects(w),
        "clusters": clusters(w),
        "identities": identities(w),
        "links": links(w),
        "changes": w.changes,
        "figures": figures,
        "faults_served": {},
    }
