"""Epoch advances: the world moves one day forward with late updates, deletes and creates.

Every change of epoch e gets a modified time inside (as_of(e-1), as_of(e)], so an incremental
pull with a watermark at the previous as_of sees exactly the listed changes. Changes are
drawn from Hasher(seed, "epoch<e>...") draws, so epoch e of a seed is always the same world.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import timefmt as T
from .pools import Hasher
from .spine import CH_WEIGHT, LOST, P_FORM, P_WIN, P_WIN_DIRECT, STATUS_LOST, STATUS_OPEN, STATUS_WON, WON

if TYPE_CHECKING:
    from .world import World


class _Log:
    """Row-level change log of one advance, turned into wire ids at the end."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, set[int]]] = {}

    def add(self, table: str, kind: str, rows: np.ndarray | list[int]) -> None:
        d = self.rows.setdefault(table, {"created": set(), "updated": set(), "deleted": set()})
        d[kind].update(int(r) for r in np.asarray(rows).ravel().tolist())

    def finish(self, w: World) -> dict[str, dict[str, list]]:
        out = {}
        for table, kinds in self.rows.items():
            kinds["updated"] -= kinds["deleted"] | kinds["created"]
            kinds["deleted"] -= kinds["created"]
            out[table] = {k: list(dict.fromkeys(w.ids(table, np.array(sorted(v), dtype=np.int64))))
                          for k, v in kinds.items()}
            if kinds["updated"] or kinds["deleted"]:
                w.late_updates.setdefault(table, set()).update(kinds["updated"] | kinds["deleted"])
        return out


def _pick(h: Hasher, field: str, candidates: np.ndarray, share: float, minimum: int = 1) -> np.ndarray:
    """A deterministic share (at least `minimum`) of candidate rows."""
    if len(candidates) == 0:
        return candidates
    u = h.u01(field, candidates)
    k = max(minimum, round(share * len(candidates)))
    return np.sort(candidates[np.argsort(u, kind="stable")[:k]])


def _times(h: Hasher, field: str, rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Instants strictly inside (lo, hi]."""
    return lo + 1 + (h.u01(field, rows) * (hi - lo - 2)).astype(np.int64)


def advance(w: World) -> dict[str, dict[str, list]]:
    s = w.spine
    e = w.epoch + 1
    lo, hi = T.as_of_ms(e - 1), T.as_of_ms(e)
    log = _Log()
    h = Hasher(s.seed, f"epoch{e}")

    # --- leads: progress, delete, create --------------------------------------------------
    L = s.leads
    idx = np.arange(L.n)
    valid = (L.bad == 0) & ~L.deleted
    open_leads = np.flatnonzero(valid & (L.person == idx) & (L.conv_t == 0))
    prog = _pick(h, "lead.prog", open_leads, 0.006)
    t = _times(h, "lead.prog.t", prog, lo, hi)
    to_mql = prog[L.mql_t[prog] == 0]
    to_sql = prog[(L.mql_t[prog] > 0) & (L.sql_t[prog] == 0)]
    L.mql_t[to_mql] = t[L.mql_t[prog] == 0]
    L.sql_t[to_sql] = t[np.isin(prog, to_sql)]
    moved = np.concatenate([to_mql, to_sql])
    L.lmt[moved] = np.maximum(L.mql_t[moved], L.sql_t[moved]) + 1000
    L.ver[moved] += 1
    log.add("crm_leads", "updated", moved)
    dels = _pick(h, "lead.del", np.setdiff1d(open_leads, prog), 0.002)
    L.deleted[dels] = True
    L.lmt[dels] = _times(h, "lead.del.t", dels, lo, hi)
    L.ver[dels] += 1
    log.add("crm_leads", "deleted", dels)
    # New activities on some leads (their follow-up time and modified time move too).
    followed = _pick(h, "lead.act", np.flatnonzero(valid & ~L.deleted), 0.004)
    at = _times(h, "lead.act.t", followed, lo, hi)
    n_act0 = s.acts.n
    s.acts.append(rel_kind=np.zeros(len(followed), np.int8), rel=followed.astype(np.int32), t=at,
                  owner=L.owner[followed], lmt=at + 1000, deleted=np.zeros(len(followed), bool))
    log.add("crm_activities", "created", np.arange(n_act0, s.acts.n))
    L.lf[followed] = np.maximum(L.lf[followed], at)
    L.lmt[followed] = np.maximum(L.lmt[followed], at + 2000)
    L.ver[followed] += 1
    log.add("crm_leads", "updated", followed)
    _create_leads(w, h, e, lo, hi, log)

    # --- opportunities: stage moves (some close), deletes ------------------------------------
    O, SC = s.opps, s.sc
    vo = (O.bad == 0) & ~O.deleted
    open_o = np.flatnonzero(vo & (O.status == STATUS_OPEN))
    mv = _pick(h, "opp.move", open_o, 0.05)
    t = _times(h, "opp.move.t", mv, lo, hi)
    old = O.stage[mv].copy()
    lead_ch = np.where(O.lead[mv] >= 0, L.channel[np.maximum(O.lead[mv], 0)], -1)
    p_win = np.where(lead_ch >= 0, np.array(P_WIN)[np.maximum(lead_ch, 0)], P_WIN_DIRECT)
    closing = old >= 3
    won = closing & (h.u01("opp.win", mv) < p_win)
    new = np.where(closing, np.where(won, WON, LOST), old + 1).astype(np.int8)
    O.stage[mv] = new
    O.status[mv] = np.where(closing, np.where(won, STATUS_WON, STATUS_LOST), STATUS_OPEN)
    O.close[mv] = np.where(closing, T.shanghai_midnight(t), O.close[mv])
    O.stg_t[mv] = t
    O.lmt[mv] = t + 1000
    O.ver[mv] += 1
    log.add("crm_opportunities", "updated", mv)
    seq = np.bincount(SC.opp, minlength=O.n)[mv]
    n_sc0 = SC.n
    SC.append(opp=mv.astype(np.int32), seq=seq.astype(np.int16), frm=old, to=new, t=t, amount=O.amount[mv],
              close=O.close[mv], lmt=t, deleted=np.zeros(len(mv), bool))
    log.add("crm_opportunity_stage_changes", "created", np.arange(n_sc0, SC.n))
    dels = _pick(h, "opp.del", np.setdiff1d(open_o, mv), 0.003)
    O.deleted[dels] = True
    O.lmt[dels] = _times(h, "opp.del.t", dels, lo, hi)
    O.ver[dels] += 1
    log.add("crm_opportunities", "deleted", dels)

    # --- plain edits: accounts, contacts, campaigns, customers, orders ------------------------
    for table, tab, share in [("crm_accounts", s.accounts, 0.005), ("crm_contacts", s.contacts, 0.003),
                              ("mkt_campaigns", s.camp, 0.05), ("erp_customers", s.customers, 0.01),
                              ("erp_sales_orders", s.orders, 0.01)]:
        live = np.flatnonzero(~_dead(tab))
        rows = _pick(h, f"{table}.edit", live, share)
        tab.ver[rows] += 1
        tab.lmt[rows] = _times(h, f"{table}.edit.t", rows, lo, hi)
        log.add(table, "updated", rows)
        if table == "erp_sales_orders":
            lines = np.flatnonzero(np.isin(s.lines_order, rows))
            log.add("erp_sales_order_lines", "updated", lines)
    gone = _pick(h, "cust.archive", np.flatnonzero(s.customers.active), 0.002)
    s.customers.active[gone] = False
    s.customers.lmt[gone] = _times(h, "cust.archive.t", gone, lo, hi)
    log.add("erp_customers", "deleted", gone)

    # --- marketing: running campaigns get another day of metrics; a few archives ------------
    C = s.camp
    last_day = T.HISTORY_DAYS - 1 + (e - 1)
    running = np.flatnonzero((C.end_day >= last_day) & ~C.archived)
    C.end_day[running] = last_day + 1
    C.lmt[running] = _times(h, "camp.extend.t", running, lo, hi)
    log.add("mkt_campaigns", "updated", running)
    n_m0 = s.metrics.n
    s.metrics.append(camp=running.astype(np.int32), day=np.full(len(running), last_day + 1, np.int32),
                     lmt=np.full(len(running), hi - 60_000, np.int64), archived=np.zeros(len(running), bool))
    log.add("mkt_campaign_daily_metrics", "created", np.arange(n_m0, s.metrics.n))
    arch = _pick(h, "sub.archive", np.flatnonzero(~s.subs.archived), 0.001)
    s.subs.archived[arch] = True
    s.subs.lmt[arch] = _times(h, "sub.archive.t", arch, lo, hi)
    log.add("mkt_form_submissions", "deleted", np.flatnonzero(np.isin(s.sub_rows, arch)))

    # --- ERP: invoices get paid (payment created, invoice updated) ----------------------------
    I = s.invoices
    unpaid = np.flatnonzero((I.pstate < 2) & ~I.cancel)
    pay = _pick(h, "inv.pay", unpaid, 0.08)
    t = _times(h, "inv.pay.t", pay, lo, hi)
    amount = I.residual[pay].copy()
    I.pstate[pay] = 2
    I.residual[pay] = 0
    I.pay_t[pay] = t
    I.lmt[pay] = t + 60_000
    I.ver[pay] += 1
    log.add("erp_invoices", "updated", pay)
    P = s.payments
    n_p0 = P.n
    P.append(inv=pay.astype(np.int32), amount=amount, t=t, lmt=t + 120_000, cancel=np.zeros(len(pay), bool),
             ver=np.zeros(len(pay), np.int16))
    log.add("erp_payments", "created", np.arange(n_p0, P.n))
    return log.finish(w)


def _dead(tab: object) -> np.ndarray:
    for name in ("deleted", "archived"):
        if hasattr(tab, name):
            return getattr(tab, name)
    if hasattr(tab, "active"):
        return ~tab.active
    if hasattr(tab, "state"):
        return tab.state == 3
    return np.zeros(tab.n, bool)


def _create_leads(w: World, h: Hasher, e: int, lo: int, hi: int, log: _Log) -> None:
    """New leads (a tenth are late duplicates of earlier people), their form submissions and events."""
    s = w.spine
    L = s.leads
    k = max(3, round(0.002 * s.n_leads0))
    n0 = L.n
    new = np.arange(n0, n0 + k, dtype=np.int64)
    ct = np.sort(_times(h, "new.ct", new, lo, hi - 5 * 60_000)) + (new - n0)
    channel = h.choice("new.channel", new, CH_WEIGHT)
    campaign = s.campaign_at(channel, np.minimum(ct, T.AS_OF0_MS - T.HOUR_MS))
    person = new.copy()
    clean = np.flatnonzero((L.bad == 0) & ~L.deleted & (L.person == np.arange(n0)))
    dup = h.u01("new.dup", new) < 0.1
    if len(clean):
        person[dup] = clean[(h.u64("new.dup.t", new[dup]) % np.uint64(len(clean))).astype(np.int64)]
    region = s.ident.company_region(2 * person)
    owner = s.owner_in_region(h, "new.owner", new, region)
    zeros = np.zeros(k, np.int64)
    L.append(ct=ct, channel=channel, campaign=campaign, region=region, owner=owner, bad=np.zeros(k, np.int8),
             deleted=np.zeros(k, bool), person=person, assigned=ct + 60_000, mql_t=zeros, sql_t=zeros,
             conv_t=zeros, acc=np.full(k, -1, np.int32), contact=np.full(k, -1, np.int32),
             opp=np.full(k, -1, np.int32), lf=zeros, lmt=ct + 120_000, ver=np.zeros(k, np.int16))
    log.add("crm_leads", "created", new)
    # Form submissions for web-form channels.
    S = s.subs
    form = new[h.u01("new.form", new) < np.array(P_FORM)[channel.astype(np.int64)]]
    m0 = S.n
    st = L.ct[form] - 1000
    S.append(lead=form.astype(np.int32), t=st, lmt=st + 2000, archived=np.zeros(len(form), bool),
             known=np.ones(len(form), bool), ver=np.zeros(len(form), np.int16))
    s.sub_rows = np.concatenate([s.sub_rows, np.arange(m0, S.n, dtype=np.int64)])
    log.add("mkt_form_submissions", "created", np.arange(len(s.sub_rows) - len(form), len(s.sub_rows)))
    # One page view per new lead.
    E = s.events
    e0 = E.n
    E.append(lead=new.astype(np.int32), t=ct + 30_000, archived=np.zeros(k, bool))
    log.add("mkt_engagement_events", "created", np.arange(e0, E.n))
