"""The world's skeleton: a few compact numpy columns per entity (keys, links, times, states).

Only what ties records together or feeds the truth figures lives here (a few bytes per row);
everything else in a record (names, phones, texts) is drawn lazily from the counter hash when
the record is served. All columns are built vectorised from `Hasher` draws, so the same seed
gives the same skeleton. Epoch advances mutate these columns (see epochs.py).
"""

from __future__ import annotations

import math

import numpy as np

from . import timefmt as T
from .names import Identity
from .pools import Hasher

CHANNELS = ["ads", "trade_show", "webinar", "social", "website", "referral", "email"]
CH_WEIGHT = [0.25, 0.10, 0.12, 0.15, 0.20, 0.06, 0.12]
P_MQL = [0.30, 0.62, 0.52, 0.24, 0.42, 0.68, 0.36]
P_SQL = [0.35, 0.55, 0.45, 0.30, 0.40, 0.65, 0.40]  # given MQL
P_OPP = [0.55, 0.70, 0.60, 0.50, 0.55, 0.80, 0.55]  # given SQL
P_WIN = [0.22, 0.38, 0.30, 0.18, 0.28, 0.48, 0.25]
P_WIN_DIRECT = 0.32
P_FORM = [0.55, 0.35, 0.90, 0.50, 0.85, 0.10, 0.60]  # lead came through a web form
CURRENCIES = ["CNY", "USD", "EUR", "HKD"]
# Fixed rates to the reporting currency; keep equal to the dbt seed (see README).
FX_TO_CNY = {"CNY": "1.0000", "USD": "7.1000", "EUR": "7.7500", "HKD": "0.9100"}
STAGES = ["qualification", "needs_analysis", "proposal", "negotiation", "won", "lost"]
WON, LOST = 4, 5
STATUS_OPEN, STATUS_WON, STATUS_LOST = 0, 1, 2

# Lead / opportunity defect codes (0 = clean).
LEAD_NO_NAME, LEAD_NO_CONTACT = 1, 2
OPP_NO_OWNER, OPP_NO_CLOSE, OPP_NEGATIVE, OPP_ORPHAN = 1, 2, 3, 4


class Tab:
    """Equal-length numpy columns of one entity."""

    def __init__(self, **cols: np.ndarray) -> None:
        self.names = list(cols)
        for k, v in cols.items():
            setattr(self, k, v)

    @property
    def n(self) -> int:
        return len(getattr(self, self.names[0]))

    def append(self, **cols: np.ndarray) -> None:
        m = len(next(iter(cols.values())))
        for k in self.names:
            old = getattr(self, k)
            new = cols.get(k)
            if new is None:
                new = np.full(m, -1 if old.dtype.kind in "iu" else 0, dtype=old.dtype)
            setattr(self, k, np.concatenate([old, np.asarray(new, dtype=old.dtype)]))


def _ar(n: int, start: int = 0) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int64)


def _day_weights() -> np.ndarray:
    """Lead intake per calendar day: weekday pattern, growth, Chinese New Year dip."""
    days = np.arange(T.HISTORY_DAYS)
    ms = T.START_MS + days * T.DAY_MS
    weekday = (days + 4) % 7  # 2024-11-01 was a Friday (weekday 4)
    w = np.where(weekday >= 5, 0.35, 1.0) * (0.8 + 0.4 * days / T.HISTORY_DAYS)
    for cny in T.CNY_DAYS_MS:
        rel = (ms - cny) / T.DAY_MS
        w = np.where((rel >= -7) & (rel <= 10), w * 0.25, w)
    return w


def draw_times(h: Hasher, field: str, idx: np.ndarray, lo_ms: int | None = None, hi_ms: int | None = None
               ) -> np.ndarray:
    """Instants following the seasonal day weights, inside [lo, hi]."""
    w = _day_weights()
    cum = np.cumsum(w) / w.sum()
    day = np.searchsorted(cum, h.u01(field + ".day", idx), side="right")
    tod = (8 + 12 * h.u01(field + ".tod", idx)) * T.HOUR_MS
    t = T.START_MS + day * T.DAY_MS + tod.astype(np.int64)
    if lo_ms is not None:
        t = np.maximum(t, lo_ms)
    return np.minimum(t, hi_ms if hi_ms is not None else T.AS_OF0_MS - T.HOUR_MS)


def days_ms(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x) * T.DAY_MS).astype(np.int64)


def quarter_end_pull(h: Hasher, idx: np.ndarray, close_ms: np.ndarray, p: float = 0.35) -> np.ndarray:
    """Move a share of closes into the last ten days of their quarter (quarter-end spikes)."""
    day = ((close_ms + T.TZ_OFFSET_MS) // T.DAY_MS).astype("datetime64[D]")
    month = day.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    q_end = ((month // 3) * 3 + 3).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    target = q_end - 1 - h.int("qpull.d", idx, 0, 10)
    target_ms = target * T.DAY_MS - T.TZ_OFFSET_MS + 15 * T.HOUR_MS
    pull = (h.u01("qpull", idx) < p) & (target_ms > close_ms)
    return np.where(pull, target_ms, close_ms)


class Spine:
    """All skeleton tables of one world at epoch 0 (epochs.py mutates them)."""

    def __init__(self, seed: int, scale: float) -> None:
        if scale <= 0:
            raise ValueError("scale must be > 0")
        self.seed = seed
        self.scale = scale
        self.ident = Identity(seed)
        self.n_leads0 = max(100, round(10_000 * scale))
        self._org()
        self._campaigns()
        self._leads()
        self._accounts_and_opps()
        self._stage_changes()
        self._contacts()
        self._activities()
        self._targets()
        self._marketing()
        self._erp()

    def h(self, stream: str) -> Hasher:
        return Hasher(self.seed, stream)

    # --- organisation -------------------------------------------------------------------
    def _org(self) -> None:
        self.n_reps = 20 + round(self.n_leads0 / 5000)
        self.n_teams = max(4, math.ceil(self.n_reps / 6))
        n_users = 1 + 4 + self.n_teams + self.n_reps
        h = self.h("crm_users")
        idx = _ar(n_users)
        role = np.full(n_users, 3, np.int8)
        role[0], role[1:5], role[5:5 + self.n_teams] = 0, 1, 2
        team = np.full(n_users, -1, np.int32)
        team[5:5 + self.n_teams] = np.arange(self.n_teams)
        team[5 + self.n_teams:] = np.arange(self.n_reps) % self.n_teams
        region = np.where(team >= 0, team % 4, -1).astype(np.int8)
        region[1:5] = np.arange(4)
        leader = np.full(n_users, -1, np.int32)
        leader[1:5] = 0
        leader[5:5 + self.n_teams] = 1 + np.arange(self.n_teams) % 4
        leader[5 + self.n_teams:] = 5 + team[5 + self.n_teams:]
        ct = T.START_MS - days_ms(h.int("ct", idx, 30, 1500))
        stopped = (role == 3) & (h.u01("stop", idx) < 0.05)
        self.users = Tab(role=role, team=team, region=region, leader=leader, ct=ct, stopped=stopped)
        self.rep_user0 = 5 + self.n_teams  # user index of rep 0
        self.rep_region = region[self.rep_user0:]
        self.reps_by_region = [np.flatnonzero(self.rep_region == r) for r in range(4)]

    def owner_in_region(self, h: Hasher, field: str, idx: np.ndarray, region: np.ndarray) -> np.ndarray:
        """A rep index (0..n_reps-1) of the record's region."""
        out = np.zeros(len(idx), np.int32)
        pick = h.u64(field, idx)
        for r in range(4):
            m = region == r
            reps = self.reps_by_region[r]
            out[m] = reps[(pick[m] % np.uint64(len(reps))).astype(np.int64)]
        return out

    # --- campaigns: per channel, consecutive windows tiling the history ---------------------
    def _campaigns(self) -> None:
        h = self.h("mkt_campaigns")
        n_c = 30 + round(self.n_leads0 / 2000)
        per_ch = np.maximum(1, np.round(np.array(CH_WEIGHT) / sum(CH_WEIGHT) * n_c)).astype(int)
        ch, start, end = [], [], []
        for c, k in enumerate(per_ch):
            cuts = np.sort(h.u01(f"cut{c}", _ar(k - 1))) if k > 1 else np.array([])
            bounds = np.concatenate([[0], np.round(cuts * T.HISTORY_DAYS), [T.HISTORY_DAYS]]).astype(np.int64)
            bounds = np.maximum.accumulate(bounds)
            for i in range(k):
                ch.append(c)
                start.append(bounds[i])
                end.append(max(bounds[i], bounds[i + 1] - 1))
        order = np.lexsort((np.array(ch), np.array(start)))
        self.camp = Tab(
            channel=np.array(ch, np.int8)[order],
            start_day=np.array(start, np.int64)[order],
            end_day=np.array(end, np.int64)[order],
            ver=np.zeros(len(ch), np.int16),
        )
        n = self.camp.n
        ids = _ar(n)
        self.camp.budget = (h.int("budget", ids, 20, 400) * 1000 * 100).astype(np.int64)  # cents CNY
        self.camp.ct = T.START_MS + days_ms(self.camp.start_day) - days_ms(h.int("lead", ids, 3, 20))
        self.camp.lmt = self.camp.ct + days_ms(h.u01("lmt", ids) * 2)
        self.camp.archived = np.zeros(n, bool)
        self.camp.days0 = self.camp.end_day - self.camp.start_day + 1  # planned length: spend per day
        self.camp.names += ["budget", "ct", "lmt", "archived", "days0"]

    def campaign_at(self, channel: np.ndarray, t_ms: np.ndarray) -> np.ndarray:
        """The campaign of a channel running at an instant."""
        day = (t_ms - T.START_MS) // T.DAY_MS
        out = np.full(len(channel), -1, np.int32)
        for c in range(len(CHANNELS)):
            m = channel == c
            rows = np.flatnonzero(self.camp.channel == c)
            starts = self.camp.start_day[rows]
            pos = np.clip(np.searchsorted(starts, day[m], side="right") - 1, 0, len(rows) - 1)
            out[m] = rows[pos]
        return out

    # --- leads ---------------------------------------------------------------------------
    def _leads(self) -> None:
        n = self.n_leads0
        h = self.h("crm_leads")
        idx = _ar(n)
        # Creation times ascending with the index (ids are time-ordered, like ObjectIds);
        # + idx keeps them strictly increasing so "earliest-created" is never a tie.
        ct = np.sort(draw_times(h, "ct", idx, hi_ms=T.AS_OF0_MS - 2 * T.DAY_MS)) + idx
        channel = h.choice("channel", idx, CH_WEIGHT)
        campaign = self.campaign_at(channel, ct)
        no_campaign = np.isin(channel, [4, 5]) & (h.u01("nocamp", idx) < 0.5)
        campaign[no_campaign] = -1
        region = self.ident.company_region(2 * idx)
        owner = self.owner_in_region(h, "owner", idx, region)
        bad = np.zeros(n, np.int8)
        u = h.u01("bad", idx)
        bad[u < 0.007] = LEAD_NO_NAME
        bad[(u >= 0.007) & (u < 0.015)] = LEAD_NO_CONTACT
        deleted = (bad == 0) & (h.u01("deleted", idx) < 0.01)
        clean = (bad == 0) & ~deleted
        person = idx.copy()
        dup_cand = clean & (h.u01("dup", idx) < 0.03)
        target = idx - 1 - (h.u64("dup.t", idx) % np.maximum(1, np.minimum(idx, 20_000)).astype(np.uint64)).astype(np.int64)
        ok = dup_cand & (target >= 0)
        ok[ok] = clean[target[ok]] & ~dup_cand[target[ok]]
        person[ok] = target[ok]
        is_dup = ok
        plain = clean & ~is_dup
        ch = channel.astype(np.int64)
        mql = plain & (h.u01("mql", idx) < np.array(P_MQL)[ch])
        sql = mql & (h.u01("sql", idx) < np.array(P_SQL)[ch])
        conv = sql & (h.u01("conv", idx) < np.array(P_OPP)[ch])
        assigned = ct + (h.u01("assign", idx) ** 3 * 72 * T.HOUR_MS).astype(np.int64)
        mql_t = ct + days_ms(0.3 + 12 * h.u01("mql.t", idx))
        sql_t = mql_t + days_ms(1 + 20 * h.u01("sql.t", idx))
        conv_t = sql_t + days_ms(1 + 15 * h.u01("conv.t", idx))
        lim = T.AS_OF0_MS - T.HOUR_MS
        mql &= mql_t < lim
        sql &= mql & (sql_t < lim)
        conv &= sql & (conv_t < lim)
        self.leads = Tab(
            ct=ct, channel=channel, campaign=campaign, region=region, owner=owner, bad=bad,
            deleted=deleted, person=person, assigned=np.minimum(assigned, lim),
            mql_t=np.where(mql, mql_t, 0), sql_t=np.where(sql, sql_t, 0), conv_t=np.where(conv, conv_t, 0),
            acc=np.full(n, -1, np.int32), contact=np.full(n, -1, np.int32), opp=np.full(n, -1, np.int32),
            lf=np.zeros(n, np.int64), lmt=np.zeros(n, np.int64), ver=np.zeros(n, np.int16),
        )

    # --- accounts and opportunities ---------------------------------------------------
    def _accounts_and_opps(self) -> None:
        L = self.leads
        conv_leads = np.flatnonzero(L.conv_t > 0)
        n_conv = len(conv_leads)
        n_acc = max(round(self.n_leads0 / 4), n_conv + 20)
        ha = self.h("crm_accounts")
        aidx = _ar(n_acc)
        # Accounts converted from a lead take that lead's company and conversion time.
        slots = np.argsort(ha.u64("slot", aidx), kind="stable")[:n_conv]
        acc_lead = np.full(n_acc, -1, np.int32)
        acc_lead[slots] = conv_leads
        ckey = 2 * aidx + 1
        ckey[slots] = 2 * L.person[conv_leads]
        ct = draw_times(ha, "ct", aidx, hi_ms=T.AS_OF0_MS - 3 * T.DAY_MS) - days_ms(ha.u01("pre", aidx) * 200)
        ct = np.maximum(ct, T.START_MS - 400 * T.DAY_MS)
        ct[slots] = L.conv_t[conv_leads]
        region = self.ident.company_region(ckey)
        owner = self.owner_in_region(ha, "owner", aidx, region)
        owner[slots] = L.owner[conv_leads]
        # Direct opportunities (repeat business) on existing accounts.
        ho = self.h("crm_opportunities")
        n_direct = round(0.5 * n_conv) + 5
        didx = _ar(n_direct, 1_000_000_000)
        # Repeat business only on live accounts: a deal on a deleted account would make the
        # figures hinge on how a rule treats the dangling reference.
        acc_deleted = (acc_lead < 0) & (ha.u01("deleted", aidx) < 0.005)
        live = np.flatnonzero(~acc_deleted)
        d_acc = live[ho.int("acc", didx, 0, len(live))]
        d_ct = np.minimum(np.maximum(ct[d_acc] + days_ms(1), draw_times(ho, "ct", didx, hi_ms=T.AS_OF0_MS - 2 * T.DAY_MS)),
                          T.AS_OF0_MS - 2 * T.HOUR_MS)
        opp_lead = np.concatenate([conv_leads, np.full(n_direct, -1)]).astype(np.int32)
        opp_acc = np.concatenate([slots, d_acc]).astype(np.int64)
        o_ct = np.concatenate([L.conv_t[conv_leads] + 60_000, d_ct])
        order = np.argsort(o_ct, kind="stable")
        opp_lead, opp_acc, o_ct = opp_lead[order], opp_acc[order], o_ct[order]
        n_opp = len(order)
        oidx = _ar(n_opp)
        owner_o = owner[opp_acc].astype(np.int32)
        lead_ch = np.where(opp_lead >= 0, L.channel[np.maximum(opp_lead, 0)], -1)
        p_win = np.where(lead_ch >= 0, np.array(P_WIN)[np.maximum(lead_ch, 0)], P_WIN_DIRECT)
        is_en = region[opp_acc] == 3
        cur = np.where(is_en, ho.choice("cur.en", oidx, [0.2, 0.5, 0.25, 0.05]),
                       ho.choice("cur.cn", oidx, [0.9, 0.05, 0.02, 0.03])).astype(np.int8)
        cny = np.exp(np.log(180_000) + 0.9 * ho.normal("amount", oidx))
        rate = np.array([float(FX_TO_CNY[c]) for c in CURRENCIES])[cur]
        amount = np.maximum(100, np.round(cny / rate / 100) * 100 * 100).astype(np.int64)  # cents
        cycle = 10 + np.exp(np.log(45) + 0.6 * ho.normal("cycle", oidx))
        close = quarter_end_pull(ho, oidx, o_ct + days_ms(cycle))
        close = T.shanghai_midnight(close)
        closed = close + 10 * T.HOUR_MS < T.AS_OF0_MS
        won = closed & (ho.u01("win", oidx) < p_win)
        status = np.where(closed, np.where(won, STATUS_WON, STATUS_LOST), STATUS_OPEN).astype(np.int8)
        # Lost deals end early: their close is somewhere inside the cycle.
        lost_close = T.shanghai_midnight(o_ct + ((close - o_ct) * (0.3 + 0.7 * ho.u01("lostat", oidx))).astype(np.int64)
                                         + T.DAY_MS)
        # ... and never after the last business day of the history.
        lost_close = np.minimum(lost_close, T.shanghai_midnight(np.array([T.AS_OF0_MS]))[0])
        close = np.where(status == STATUS_LOST, lost_close, close)
        open_stage = ho.int("ostage", oidx, 1, 4)
        stage = np.where(status == STATUS_WON, WON, np.where(status == STATUS_LOST, LOST, open_stage)).astype(np.int8)
        direct = opp_lead < 0
        bad = np.zeros(n_opp, np.int8)
        u = ho.u01("bad", oidx)
        for code, lo, hi in [(OPP_NO_OWNER, 0, 0.012), (OPP_NO_CLOSE, 0.012, 0.024),
                             (OPP_NEGATIVE, 0.024, 0.032), (OPP_ORPHAN, 0.032, 0.045)]:
            bad[direct & (u >= lo) & (u < hi)] = code
        amount = np.where(bad == OPP_NEGATIVE, -amount, amount)
        deleted = direct & (bad == 0) & (ho.u01("deleted", oidx) < 0.02)
        self.accounts = Tab(
            lead=acc_lead, ckey=ckey, ct=ct, region=region, owner=owner,
            deleted=np.zeros(n_acc, bool), lmt=np.zeros(n_acc, np.int64), ver=np.zeros(n_acc, np.int16),
            no_vat=ha.u01("novat", aidx) < 0.10,
        )
        self.accounts.deleted = acc_deleted
        self.opps = Tab(
            lead=opp_lead, acc=opp_acc.astype(np.int32), ct=o_ct, owner=owner_o, cur=cur, amount=amount,
            close=close, status=status, stage=stage, bad=bad, deleted=deleted,
            product_line=ho.int("pline", oidx, 0, 4).astype(np.int8),
            lmt=np.zeros(n_opp, np.int64), stg_t=np.zeros(n_opp, np.int64), ver=np.zeros(n_opp, np.int16),
        )
        has_lead = opp_lead >= 0
        L.opp[opp_lead[has_lead]] = np.flatnonzero(has_lead)
        L.acc[conv_leads] = slots

    # --- stage history --------------------------------------------------------------------
    def _stage_changes(self) -> None:
        O = self.opps
        h = self.h("crm_opportunity_stage_changes")
        oidx = _ar(O.n)
        k_won = h.int("kwon", oidx, 3, 6)
        k_lost = h.int("klost", oidx, 2, 6)
        k = np.where(O.status == STATUS_WON, k_won, np.where(O.status == STATUS_LOST, k_lost, O.stage.astype(np.int64) + 1))
        off = np.concatenate([[0], np.cumsum(k)])
        n = int(off[-1])
        opp = np.repeat(oidx, k)
        seq = np.arange(n) - off[opp]
        kk = k[opp]
        st = O.status[opp]
        # Paths: won skips middle stages when short; lost stops after stage k-2; open climbs to stage.
        won_paths = {3: [0, 3, WON], 4: [0, 2, 3, WON], 5: [0, 1, 2, 3, WON]}
        to = np.where(st == STATUS_LOST, np.where(seq == kk - 1, LOST, seq), seq)
        for kv, path in won_paths.items():
            m = (st == STATUS_WON) & (kk == kv)
            to[m] = np.array(path)[seq[m]]
        frm = np.where(seq == 0, -1, np.roll(to, 1))
        end = np.where(O.status == STATUS_OPEN,
                       O.ct + ((T.AS_OF0_MS - T.DAY_MS - O.ct) * h.u01("oend", oidx)).astype(np.int64),
                       O.close + 10 * T.HOUR_MS)
        end = np.maximum(end, O.ct + T.HOUR_MS)
        frac = (seq + 0.6 * h.u01("frac", _ar(n))) / np.maximum(kk - 1 + 0.6, 1)
        frac = np.where(seq == 0, 0.0, np.where(seq == kk - 1, 1.0, frac))
        t = O.ct[opp] + ((end - O.ct)[opp] * frac).astype(np.int64) + seq * 1000
        slip = np.where(seq == kk - 1, 0, (kk - 1 - seq) * h.int("slip", _ar(n), 0, 12))
        amt_f = np.where(seq == kk - 1, 1.0, 0.8 + 0.4 * h.u01("amtf", _ar(n)))
        amt = (np.round(O.amount[opp] * amt_f / 100) * 100).astype(np.int64)
        self.sc = Tab(opp=opp.astype(np.int32), seq=seq.astype(np.int16), frm=frm.astype(np.int8),
                      to=to.astype(np.int8), t=t, amount=amt,
                      close=O.close[opp] - days_ms(slip), lmt=t.copy(), deleted=np.zeros(n, bool))
        O.stg_t = t[off[1:] - 1]
        O.lmt = np.minimum(O.stg_t + (h.u01("olmt", oidx) * 3 * T.HOUR_MS).astype(np.int64), T.AS_OF0_MS - 60_000)

    # --- contacts ------------------------------------------------------------------------
    def _contacts(self) -> None:
        A = self.accounts
        n = 2 * A.n
        h = self.h("crm_contacts")
        cidx = _ar(n)
        acc = (cidx // 2).astype(np.int32)
        slot = (cidx % 2).astype(np.int8)
        lead = np.where((slot == 0) & (A.lead[acc] >= 0), A.lead[acc], -1).astype(np.int32)
        dup = (slot == 1) & (h.u01("dup", cidx // 2) < 0.03)
        ct = A.ct[acc] + np.where(slot == 0, 30_000, days_ms(h.u01("ct", cidx) * 60))
        ct = np.minimum(ct, T.AS_OF0_MS - T.HOUR_MS)
        # Deleting an account invalidates its contacts too (no contact points at a tombstone).
        deleted = ((slot == 1) & ~dup & (h.u01("deleted", cidx) < 0.01)) | A.deleted[acc]
        self.contacts = Tab(acc=acc, slot=slot, lead=lead, dup=dup, ct=ct, deleted=deleted,
                            lmt=np.minimum(ct + days_ms(h.u01("lmt", cidx) * 30), T.AS_OF0_MS - T.HOUR_MS),
                            ver=np.zeros(n, np.int16))
        conv = lead >= 0
        self.leads.contact[lead[conv]] = np.flatnonzero(conv)

    # --- activities: leads first, then opportunities ---------------------------------------
    def _activities(self) -> None:
        L, O = self.leads, self.opps
        h = self.h("crm_activities")
        lidx = _ar(L.n)
        gap = days_ms(0.2 + 5.0 * h.u01("gap", lidx) ** 2)
        room = np.maximum(0, (T.AS_OF0_MS - T.HOUR_MS - L.ct) // np.maximum(gap, 1))
        k_l = np.minimum(h.int("kl", lidx, 0, 5), room)
        k_l = np.where(L.bad == LEAD_NO_CONTACT, 0, k_l)
        oidx = _ar(O.n)
        k_o = h.int("ko", oidx, 1, 4)
        n_l = int(k_l.sum())
        lead_of = np.repeat(lidx, k_l)
        seq_l = np.arange(n_l) - np.concatenate([[0], np.cumsum(k_l)])[lead_of]
        u = h.u01("u", _ar(n_l))
        t_l = L.ct[lead_of] + ((seq_l + 0.2 + 0.8 * u) * gap[lead_of]).astype(np.int64)
        opp_of = np.repeat(oidx, k_o)
        n_o = len(opp_of)
        span = np.maximum(O.stg_t - O.ct, T.HOUR_MS)
        t_o = O.ct[opp_of] + (span[opp_of] * h.u01("ot", _ar(n_o, n_l))).astype(np.int64)
        rel_kind = np.concatenate([np.zeros(n_l, np.int8), np.ones(n_o, np.int8)])
        rel = np.concatenate([lead_of, opp_of]).astype(np.int32)
        t = np.concatenate([t_l, t_o])
        n = len(t)
        owner = np.where(rel_kind == 0, L.owner[np.where(rel_kind == 0, rel, 0)],
                         O.owner[np.where(rel_kind == 1, rel, 0)]).astype(np.int32)
        lmt = np.minimum(t + (h.u01("lmt", _ar(n)) * 600_000).astype(np.int64), np.maximum(t, T.AS_OF0_MS - 1000))
        self.acts = Tab(rel_kind=rel_kind, rel=rel, t=t, owner=owner, lmt=lmt, deleted=np.zeros(n, bool))
        # Lead follow-up: last activity time; the lead's modified time is its latest event.
        last = np.zeros(L.n, np.int64)
        np.maximum.at(last, lead_of, t_l)
        L.lf = last
        lmt = np.maximum.reduce([L.ct + 60_000, L.assigned, L.mql_t, L.sql_t, L.conv_t])
        touch = (h.u01("touch", lidx) * 2 * T.DAY_MS).astype(np.int64)
        L.lmt = np.minimum(np.maximum(lmt, last) + touch, T.AS_OF0_MS - 60_000)
        opp_last = np.zeros(O.n, np.int64)
        np.maximum.at(opp_last, opp_of, t_o)
        self.opp_lf = opp_last
        A = self.accounts
        A.lmt = np.minimum(A.ct + days_ms(self.h("crm_accounts").u01("lmt", _ar(A.n)) * 90), T.AS_OF0_MS - 60_000)

    # --- quotas and forecast submissions ---------------------------------------------------
    def _targets(self) -> None:
        O = self.opps
        self.fiscal_years = [2024, 2025, 2026]
        self.n_months = 24
        # Actual won CNY per rep and month feeds the forecast submissions (so accuracy is real).
        rate = np.array([float(FX_TO_CNY[c]) for c in CURRENCIES])
        m = ((O.close + T.TZ_OFFSET_MS) // T.DAY_MS).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        m0 = np.datetime64("2024-11", "M").astype(np.int64)
        rel = m - m0
        ok = (O.status == STATUS_WON) & (rel >= 0) & (rel < self.n_months) & (O.amount > 0)
        grid = np.zeros((self.n_reps, self.n_months))
        np.add.at(grid, (O.owner[ok], rel[ok]), O.amount[ok] / 100 * rate[O.cur[ok]])
        self.won_grid = grid

    # --- marketing ----------------------------------------------------------------------
    def _marketing(self) -> None:
        L = self.leads
        lidx = _ar(L.n)
        hf = self.h("mkt_form_submissions")
        ch = L.channel.astype(np.int64)
        form = (hf.u01("form", lidx) < np.array(P_FORM)[ch]) | (L.person != lidx) & (hf.u01("dform", lidx) < 0.7)
        sub_lead = np.flatnonzero(form).astype(np.int32)
        n_sub = len(sub_lead)
        sidx = _ar(n_sub)
        t = L.ct[sub_lead] - (hf.u01("lag", sidx) * 300_000).astype(np.int64) - 1000
        self.subs = Tab(lead=sub_lead, t=t, lmt=t + 2000, archived=hf.u01("arch", sidx) < 0.005,
                        known=hf.u01("known", sidx) < 0.92, ver=np.zeros(n_sub, np.int16))
        # Rows actually served: a few submissions are served twice with the same id.
        twice = hf.u01("twice", sidx) < 0.005
        self.sub_rows = np.repeat(sidx, np.where(twice, 2, 1)).astype(np.int64)
        he = self.h("mkt_engagement_events")
        k = np.where(L.deleted | (L.bad > 0), 0, he.int("k", lidx, 0, 7))
        off = np.concatenate([[0], np.cumsum(k)])
        lead_of = np.repeat(lidx, k).astype(np.int32)
        n_ev = int(off[-1])
        eidx = _ar(n_ev)
        room = np.minimum(60 * T.DAY_MS, T.AS_OF0_MS - 60_000 - L.ct[lead_of])
        t = L.ct[lead_of] - 2 * T.DAY_MS + (he.u01("t", eidx) ** 2 * (room + 2 * T.DAY_MS)).astype(np.int64)
        t = np.clip(t, T.START_MS, T.AS_OF0_MS - 60_000)
        self.events = Tab(lead=lead_of, t=t, archived=np.zeros(n_ev, bool))
        # Daily metrics: one row per campaign-day.
        C = self.camp
        days = (C.end_day - C.start_day + 1).astype(np.int64)
        camp_of = np.repeat(_ar(C.n), days).astype(np.int32)
        day = C.start_day[camp_of] + (np.arange(int(days.sum())) - np.concatenate([[0], np.cumsum(days)])[camp_of])
        self.metrics = Tab(camp=camp_of, day=day.astype(np.int32),
                           lmt=T.START_MS + days_ms(day + 1) + 2 * T.HOUR_MS, archived=np.zeros(len(day), bool))
        self.metrics.lmt = np.minimum(self.metrics.lmt, T.AS_OF0_MS - 60_000)

    # --- ERP ----------------------------------------------------------------------------
    def _erp(self) -> None:
        O, A = self.opps, self.accounts
        valid_won = (O.status == STATUS_WON) & (O.bad == 0) & ~O.deleted
        won_idx = np.flatnonzero(valid_won)
        # Customers: one per account with a valid won deal, created at its first win.
        first_win = np.full(A.n, np.iinfo(np.int64).max)
        np.minimum.at(first_win, O.acc[won_idx], O.close[won_idx])
        accs = np.flatnonzero(first_win < np.iinfo(np.int64).max)
        hc = self.h("erp_customers")
        c_ct = first_win[accs] + T.DAY_MS + (hc.u01("ct", accs) * 2 * T.DAY_MS).astype(np.int64)
        # Identity duplicates: the same company entered twice in the ERP, later.
        dup_src = accs[hc.u01("dup", accs) < 0.04]
        d_ct = first_win[dup_src] + days_ms(5 + 60 * hc.u01("dct", dup_src))
        cust_acc = np.concatenate([accs, dup_src]).astype(np.int32)
        cust_ct = np.minimum(np.concatenate([c_ct, d_ct]), T.AS_OF0_MS - T.HOUR_MS)
        is_dup = np.concatenate([np.zeros(len(accs), bool), np.ones(len(dup_src), bool)])
        order = np.argsort(cust_ct, kind="stable")
        cust_acc, cust_ct, is_dup = cust_acc[order], cust_ct[order], is_dup[order]
        n_c = len(cust_acc)
        cidx = _ar(n_c)
        no_vat = A.no_vat[cust_acc] | (is_dup & (hc.u01("dnovat", cidx) < 0.5))
        self.customers = Tab(acc=cust_acc, ct=cust_ct, dup=is_dup, no_vat=no_vat,
                             active=hc.u01("inactive", cidx) >= 0.01,
                             lmt=np.minimum(cust_ct + days_ms(hc.u01("lmt", cidx) * 20), T.AS_OF0_MS - 60_000),
                             ver=np.zeros(n_c, np.int16))
        primary = np.full(A.n, -1, np.int32)
        prim_rows = np.flatnonzero(~is_dup)
        primary[cust_acc[prim_rows]] = prim_rows
        self.cust_of_acc = primary
        # Orders: one per valid won deal, plus orphans whose partner does not exist.
        ho = self.h("erp_sales_orders")
        o_date = np.minimum(O.close[won_idx] + days_ms(0.4 + 5 * ho.u01("lag", won_idx)), T.AS_OF0_MS - T.HOUR_MS)
        n_orph = max(1, round(0.01 * len(won_idx)))
        orph = _ar(n_orph, 10_000_000)
        ord_opp = np.concatenate([won_idx, np.full(n_orph, -1)]).astype(np.int32)
        ord_cust = np.concatenate([primary[O.acc[won_idx]], np.full(n_orph, -2)]).astype(np.int32)
        ord_date = np.concatenate([o_date, draw_times(ho, "orph", orph)])
        orph_amount = (ho.int("oamt", orph, 10, 500) * 100_000).astype(np.int64)
        amount = np.concatenate([O.amount[won_idx], orph_amount])
        cur = np.concatenate([O.cur[won_idx], np.zeros(n_orph, np.int8)])
        order = np.argsort(ord_date, kind="stable")
        n_o = len(order)
        ord_idx = _ar(n_o)
        state = np.where(ho.u01("cancel", ord_idx) < 0.02, 3, np.where(ho.u01("done", ord_idx) < 0.6, 2, 1))
        self.orders = Tab(opp=ord_opp[order], cust=ord_cust[order], t=ord_date[order], amount=amount[order],
                          cur=cur[order], state=state.astype(np.int8),
                          lmt=np.minimum(ord_date[order] + days_ms(ho.u01("lmt", ord_idx) * 3), T.AS_OF0_MS - 60_000),
                          ver=np.zeros(n_o, np.int16))
        hl = self.h("erp_sales_order_lines")
        k = hl.int("k", ord_idx, 1, 5)
        self.line_off = np.concatenate([[0], np.cumsum(k)])
        self.lines_order = np.repeat(ord_idx, k).astype(np.int32)
        # Invoices: one per confirmed order with a real partner.
        inv_orders = np.flatnonzero((self.orders.state != 3) & (self.orders.cust >= 0))
        hi = self.h("erp_invoices")
        n_i = len(inv_orders)
        iidx = _ar(n_i)
        inv_t = np.minimum(self.orders.t[inv_orders] + days_ms(hi.u01("lag", iidx) * 7), T.AS_OF0_MS - T.HOUR_MS)
        terms = np.where(hi.u01("terms", iidx) < 0.6, 30, 60)
        due = T.shanghai_midnight(inv_t) + days_ms(terms)
        total = np.round(self.orders.amount[inv_orders] * 1.13).astype(np.int64)
        u = hi.u01("pay", iidx)
        age = (T.AS_OF0_MS - inv_t) / T.DAY_MS
        p_paid = np.clip(age / 90, 0.05, 0.85)
        paid_state = np.where(u < p_paid, 2, np.where(u < p_paid + 0.12, 1, 0)).astype(np.int8)
        frac = 0.3 + 0.4 * hi.u01("partial", iidx)
        residual = np.where(paid_state == 2, 0, np.where(paid_state == 1, np.round(total * (1 - frac)), total))
        cancel = hi.u01("cancel", iidx) < 0.01
        pay_t = np.minimum(inv_t + days_ms(5 + terms * 1.2 * hi.u01("pt", iidx)), T.AS_OF0_MS - T.HOUR_MS)
        self.invoices = Tab(order=inv_orders.astype(np.int32), t=inv_t, due=due, total=total,
                            residual=residual.astype(np.int64), pstate=np.where(cancel, 0, paid_state).astype(np.int8),
                            cancel=cancel, pay_t=pay_t,
                            lmt=np.where(paid_state > 0, pay_t, inv_t) + 60_000, ver=np.zeros(n_i, np.int16))
        self.invoices.residual = np.where(cancel, total, self.invoices.residual)
        # Payments: one per paid or partly paid invoice, plus orphans naming no real invoice.
        paid = np.flatnonzero((self.invoices.pstate > 0) & ~cancel)
        hp = self.h("erp_payments")
        n_orph_p = max(1, round(0.005 * len(paid)))
        p_inv = np.concatenate([paid, np.full(n_orph_p, -1)]).astype(np.int32)
        p_amt = np.concatenate([self.invoices.total[paid] - self.invoices.residual[paid],
                                hp.int("oamt", _ar(n_orph_p), 10, 300) * 100_000])
        p_t = np.concatenate([pay_t[paid], draw_times(hp, "orph", _ar(n_orph_p))])
        order = np.argsort(p_t, kind="stable")
        self.payments = Tab(inv=p_inv[order], amount=p_amt[order].astype(np.int64), t=p_t[order],
                            lmt=p_t[order] + 120_000, cancel=np.zeros(len(order), bool),
                            ver=np.zeros(len(order), np.int16))
