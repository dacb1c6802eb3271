"""CRM records in the Fxiaoke OpenAPI v2 wire shape, built per block of indices.

Shape rules (FXIAOKE_API.md): owners and other employee fields are lists of strings, times
are epoch ms, amounts are strings with two decimals, and null fields are left out.
"""

from __future__ import annotations

import numpy as np

from . import names as N
from . import pools as P
from . import timefmt as T
from .pools import Hasher, key64
from .spine import (CHANNELS, CURRENCIES, LEAD_NO_CONTACT, LEAD_NO_NAME, OPP_NO_CLOSE, OPP_NO_OWNER,
                    OPP_ORPHAN, STAGES, STATUS_LOST, Spine)

API_NAMES = {
    "crm_accounts": "AccountObj",
    "crm_contacts": "ContactObj",
    "crm_leads": "LeadsObj",
    "crm_opportunities": "NewOpportunityObj",
    "crm_opportunity_stage_changes": "opportunity_stage_change__c",
    "crm_activities": "ActiveRecordObj",
    "crm_quotas": "GoalValueObj",
    "crm_forecast_submissions": "forecast_submission__c",
}
CUSTOM_OBJECTS = {"opportunity_stage_change__c", "forecast_submission__c"}
PRODUCT_LINES = ["Software", "Hardware", "Services", "Subscriptions"]
PRODUCT_LINES_CN = ["软件", "硬件", "实施服务", "订阅"]
STAGE_PROB = [10, 25, 50, 75, 100, 0]
STAGE_FORECAST = ["pipeline", "pipeline", "best_case", "commit", "closed", "omitted"]
LOSS_REASONS = ["price", "competitor", "no_budget", "no_decision", "timing"]
SYSTEM_USER = "-10000"
COMPANY_DEPT = 999999
REGION_DEPT0 = 1001
TEAM_DEPT0 = 2001
REGION_NAMES = ["华东大区", "华北大区", "华南大区", "海外/International"]
ROLE_POSITIONS = ["销售副总裁", "大区总监", "销售经理", "销售代表"]
EMPLOYEES = ["20", "50", "150", "400", "1200", "5000"]


def money(cents: int) -> str:
    """Exact two-decimal string from integer cents (no float rounding)."""
    sign = "-" if cents < 0 else ""
    c = abs(int(cents))
    return f"{sign}{c // 100}.{c % 100:02d}"


class CrmWire:
    def __init__(self, spine: Spine) -> None:
        self.s = spine
        self.seed = spine.seed
        self.ident = spine.ident
        self._prefix = {
            t: f"{0x60000000 + key64(self.seed, 'idprefix', t) % 0x10000000:08x}" for t in API_NAMES
        }
        u = spine.users
        hu = Hasher(self.seed, "crm_users")
        self.user_ids = [f"FSUID_{x:016X}{y:016X}" for x, y in zip(
            hu.u64("oid.a", np.arange(u.n)).tolist(), hu.u64("oid.b", np.arange(u.n)).tolist())]
        is_en = u.region == 3
        keys = 10_000_000 + np.arange(u.n)
        self.user_names, self.user_emails, self.user_mobiles = self.ident.people(
            keys, is_en, ["sandbox-corp.com"] * u.n)
        self.pool_ids = [self.make_id("crm_leads", 0)[:8] + f"{0xF00 + r:016x}" for r in range(4)]
        self.high_seas_id = self.make_id("crm_accounts", 0)[:8] + f"{0xF10:016x}"
        # Shared per-rep owner lists: building them once per record was a third of the cost.
        self._owner_parts = [([self.user_ids[spine.rep_user0 + r]], [str(TEAM_DEPT0 + r % spine.n_teams)])
                             for r in range(spine.n_reps)]
        self._vstr = [str(v + 1) for v in range(64)]
        self._assigner = [[self.user_ids[5 + r % spine.n_teams]] for r in range(spine.n_reps)]

    # --- ids ---
    def make_id(self, table: str, idx: int) -> str:
        return f"{self._prefix[table]}{idx:016x}"

    def ids(self, table: str, idx: np.ndarray) -> list[str]:
        p = self._prefix[table]
        return [f"{p}{i:016x}" for i in idx.tolist()]

    def id_position(self, table: str, value: str, n: int) -> int:
        """Number of records whose _id <= value (ids are fixed-width, so string order = index order)."""
        p = self._prefix[table]
        v = str(value).lower()
        if v[:8] != p:
            return 0 if v < p else n
        tail = v[8:]
        try:
            k = int(tail, 16) if tail else -1
        except ValueError:
            k = -1 if tail < "0" else n
        if len(tail) > 16:
            k = n if tail[:16] >= "0" * 16 else -1
        return int(min(max(k + 1, 0), n))

    def _sparse_ids(self, table: str, rows: list[int]) -> list[str | None]:
        p = self._prefix[table]
        return [f"{p}{i:016x}" if i >= 0 else None for i in rows]

    def rep_uid(self, rep: int) -> str:
        return self.user_ids[self.s.rep_user0 + rep]

    def _common(self, table: str, idx: np.ndarray, ct: np.ndarray, lmt: np.ndarray, deleted: np.ndarray,
                ver: np.ndarray, owners: list[int]) -> list[dict]:
        """The fields every Fxiaoke object carries; owner -1 = no owner (system user created it)."""
        api = API_NAMES[table]
        dl = deleted.tolist()
        hard = (Hasher(self.seed, table).u01("harddel", idx) < 0.5).tolist() if any(dl) else dl
        parts, sysu, vstr = self._owner_parts, [SYSTEM_USER], self._vstr
        out = []
        for _id, c, m, d, v, o, hd in zip(self.ids(table, idx), ct.tolist(), lmt.tolist(), dl,
                                          ver.tolist(), owners, hard):
            if o >= 0:
                uid, dept = parts[o]
                r = {"_id": _id, "object_describe_api_name": api, "record_type": "default__c", "create_time": c,
                     "last_modified_time": m, "is_deleted": False, "life_status": "normal",
                     "version": vstr[v] if v < 64 else str(v + 1), "lock_status": "0",
                     "owner": uid, "created_by": uid, "last_modified_by": uid, "data_own_department": dept}
            else:
                r = {"_id": _id, "object_describe_api_name": api, "record_type": "default__c", "create_time": c,
                     "last_modified_time": m, "is_deleted": False, "life_status": "normal",
                     "version": vstr[v] if v < 64 else str(v + 1), "lock_status": "0",
                     "created_by": sysu, "last_modified_by": sysu}
            if d:
                r["is_deleted"] = bool(hd)
                r["life_status"] = "invalid"
            out.append(r)
        return out

    # --- people of leads (shared with form submissions) ---
    def lead_people(self, idx: np.ndarray) -> dict[str, list]:
        """Name, company, email, phone of leads as the CRM shows them (variants, gaps applied)."""
        L = self.s.leads
        person = L.person[idx]
        companies, domains, is_en = self.ident.companies(2 * person)
        names, emails, phones = self.ident.people(2 * person, is_en, domains)
        h = Hasher(self.seed, "crm_leads")
        jobs = h.int("job", idx, 0, len(P.JOB_TITLES_CN)).tolist()
        en = is_en.tolist()
        out_job = [(P.JOB_TITLES_EN if e else P.JOB_TITLES_CN)[j] for e, j in zip(en, jobs)]
        # Only duplicates and defective leads differ from their person: patch those few rows.
        dup_rows = np.flatnonzero(person != idx).tolist()
        if dup_rows:
            sel = idx[dup_rows]
            vmode = h.int("vmode", sel, 0, 3).tolist()
            v = h.int("variant", sel, 0, 1000).tolist()
            vname = (h.u01("vname", sel) < 0.5).tolist()
            vcomp = (h.u01("vcomp", sel) < 0.6).tolist()
            for j, i in enumerate(dup_rows):
                if vname[j]:
                    names[i] = N.name_variant(names[i], v[j])
                if vcomp[j]:
                    companies[i] = N.company_variant(companies[i], v[j] >> 3)
                emails[i] = N.email_variant(emails[i], v[j] >> 1) if vmode[j] != 2 else None
                phones[i] = N.phone_variant(phones[i], v[j] >> 2) if vmode[j] != 1 else None
        bad = L.bad[idx]
        for i in np.flatnonzero(bad == LEAD_NO_NAME).tolist():
            names[i] = None
        for i in np.flatnonzero(bad == LEAD_NO_CONTACT).tolist():
            emails[i] = phones[i] = None
        return {"name": names, "email": emails, "phone": phones, "company": companies,
                "job_title": out_job, "is_en": en}

    # --- streams ---
    def crm_leads(self, idx: np.ndarray) -> list[dict]:
        L, s = self.s.leads, self.s
        t = "crm_leads"
        h = Hasher(self.seed, t)
        recs = self._common(t, idx, L.ct[idx], L.lmt[idx], L.deleted[idx], L.ver[idx], L.owner[idx].tolist())
        ppl = self.lead_people(idx)
        camp_ids = [str(c + 100_000_000) if c >= 0 else None for c in L.campaign[idx].tolist()]
        acc, con, opp = L.acc[idx].tolist(), L.contact[idx].tolist(), L.opp[idx].tolist()
        mql, sql, conv = L.mql_t[idx].tolist(), L.sql_t[idx].tolist(), L.conv_t[idx].tolist()
        lf = L.lf[idx].tolist()
        closed = ((h.u01("closed", idx) < 0.25) & (L.mql_t[idx] == 0)
                  & (L.ct[idx] < T.AS_OF0_MS - 90 * T.DAY_MS)).tolist()
        back = ((h.u01("back", idx) < 0.03) & (L.ct[idx] + 4 * T.DAY_MS < T.AS_OF0_MS)).tolist()
        industry = [P.INDUSTRIES[i] for i in h.int("industry", idx, 0, len(P.INDUSTRIES)).tolist()]
        emp = [EMPLOYEES[i] for i in h.int("emp", idx, 0, 6).tolist()]
        channel = [CHANNELS[c] for c in L.channel[idx].tolist()]
        pool = [self.pool_ids[r] for r in L.region[idx].tolist()]
        assigned = L.assigned[idx].tolist()
        assigner = [self._assigner[o] for o in L.owner[idx].tolist()]
        # Only converted leads (~11%) link onwards: format those ids alone.
        acc_ids, con_ids, opp_ids = self._sparse_ids("crm_accounts", acc), self._sparse_ids("crm_contacts", con), \
            self._sparse_ids("crm_opportunities", opp)
        names, comps, emails, phones, jobs, en = (ppl["name"], ppl["company"], ppl["email"], ppl["phone"],
                                                 ppl["job_title"], ppl["is_en"])
        for k, r in enumerate(recs):
            if names[k] is not None:
                r["name"] = names[k]
            r["company"] = comps[k]
            if emails[k] is not None:
                r["email"] = emails[k]
            r["job_title"] = jobs[k]
            if phones[k] is not None:
                r["tel" if en[k] else "mobile"] = phones[k]
            r["source"] = channel[k]
            if camp_ids[k] is not None:
                r["marketing_event_id"] = camp_ids[k]
            r["leads_pool_id"] = pool[k]
            r["assigned_time"] = assigned[k]
            r["assigner_id"] = assigner[k]
            r["industry"] = industry[k]
            r["employee_count__c"] = emp[k]
            if lf[k]:
                r["last_followed_time"] = lf[k]
                r["last_follower"] = r["owner"]
            if sql[k]:
                r["mql_time__c"] = mql[k]
                r["sql_time__c"] = sql[k]
                r["leads_stage"] = "SQL"
            elif mql[k]:
                r["mql_time__c"] = mql[k]
                r["leads_stage"] = "MQL"
            else:
                r["leads_stage"] = "Lead"
            if conv[k]:
                r["biz_status"] = "transformed"
                r["transform_time"] = conv[k]
                if acc[k] >= 0:
                    r["account_id"] = acc_ids[k]
                if con[k] >= 0:
                    r["contact_id"] = con_ids[k]
                if opp[k] >= 0:
                    r["new_opportunity_id"] = opp_ids[k]
            elif closed[k]:
                r["biz_status"] = "closed"
                r["close_reason"] = "No current need" if en[k] else "无明确需求"
            else:
                r["biz_status"] = "processed" if lf[k] else "un_processed"
            if back[k] and not conv[k]:
                r["back_reason"] = "超时未跟进，退回线索池"
        return recs

    def account_names(self, acc: np.ndarray) -> tuple[list[str], list[str], np.ndarray]:
        return self.ident.companies(self.s.accounts.ckey[acc])

    def crm_accounts(self, idx: np.ndarray) -> list[dict]:
        A, s = self.s.accounts, self.s
        t = "crm_accounts"
        h = Hasher(self.seed, t)
        recs = self._common(t, idx, A.ct[idx], A.lmt[idx], A.deleted[idx], A.ver[idx], A.owner[idx].tolist())
        names, domains, is_en = self.account_names(idx)
        tax = self.ident.tax_ids(A.ckey[idx])
        no_vat = A.no_vat[idx].tolist()
        lead = A.lead[idx].tolist()
        chan = [CHANNELS[c] for c in s.leads.channel[np.maximum(A.lead[idx], 0)].tolist()]
        level = ((h.u64("level", idx) + A.ver[idx].astype(np.uint64)) % np.uint64(3)).tolist()
        ind = h.int("industry", idx, 0, len(P.INDUSTRIES)).tolist()
        emp = h.int("emp", idx, 0, 6).tolist()
        strategic = (h.u01("strat", idx) < 0.05).tolist()
        seas = (h.u01("seas", idx) < 0.08).tolist()
        region = A.region[idx].tolist()
        street = h.int("street", idx, 0, len(P.STREETS_CN)).tolist()
        num = h.int("num", idx, 1, 999).tolist()
        deal = (s.cust_of_acc[idx] >= 0).tolist()
        tel8 = h.int("tel", idx, 10_000_000, 99_999_999).tolist()
        for k, r in enumerate(recs):
            r["name"] = names[k]
            r["account_no"] = f"KH{idx[k] + 1:08d}"
            r["account_level"] = "ABC"[level[k]]
            r["account_source"] = chan[k] if lead[k] >= 0 else "self_developed"
            r["deal_status"] = "deal" if deal[k] else "no_deal"
            r["industry_level1"] = P.INDUSTRIES[ind[k]]
            if not no_vat[k]:
                r["uniform_social_credit_code"] = tax[k]
            r["tel"] = f"+65 {tel8[k]}" if is_en[k] else f"021-{tel8[k]}"
            r["email"] = f"info@{domains[k]}"
            if is_en[k]:
                r["address"] = f"{num[k]} {P.EN_PREFIX[num[k] % 40]} Road, {names[k].split('(')[1].split(')')[0]}"
            else:
                r["address"] = f"{names[k][:2]}市{P.STREETS_CN[street[k]]}{num[k]}号"
            r["employee_count__c"] = str([20, 50, 150, 400, 1200, 5000][emp[k]])
            r["region__c"] = N.REGIONS[region[k]]
            r["is_strategic__c"] = strategic[k]
            if seas[k]:
                r["high_seas_id"] = self.high_seas_id
            r["last_followed_time"] = r["last_modified_time"]
        return recs

    def crm_contacts(self, idx: np.ndarray) -> list[dict]:
        C, s = self.s.contacts, self.s
        t = "crm_contacts"
        h = Hasher(self.seed, t)
        acc = C.acc[idx]
        recs = self._common(t, idx, C.ct[idx], C.lmt[idx], C.deleted[idx], C.ver[idx], s.accounts.owner[acc].tolist())
        lead = C.lead[idx]
        # Identity source: the converted lead's person, the slot-0 contact for duplicates, else own.
        src = np.where(C.dup[idx], idx - 1, idx)
        lead_src = C.lead[src]
        pkey = np.where(lead_src >= 0, 2 * s.leads.person[np.maximum(lead_src, 0)], 2 * src + 1)
        _, domains, is_en = self.account_names(acc)
        style0 = (C.slot[src] == 0)
        n0, e0, p0 = self.ident.people(pkey, is_en, domains, style=0)
        n1, e1, p1 = self.ident.people(pkey, is_en, domains, style=1)
        dup = C.dup[idx].tolist()
        v = h.int("variant", idx, 0, 1000).tolist()
        role = h.int("role", idx, 0, 3).tolist()
        stance = h.choice("stance", idx, [0.4, 0.45, 0.15]).tolist()
        job = h.int("job", idx, 0, 12).tolist()
        acc_ids = self.ids("crm_accounts", acc)
        lead_ids = self.ids("crm_leads", np.maximum(lead, 0))
        lead_l = lead.tolist()
        s0 = style0.tolist()
        en = is_en.tolist()
        for k, r in enumerate(recs):
            name, email, phone = (n0[k], e0[k], p0[k]) if s0[k] else (n1[k], e1[k], p1[k])
            if dup[k]:
                name = N.name_variant(name, v[k])
                email = N.email_variant(email, v[k] >> 2)
                phone = N.phone_variant(phone, v[k] >> 4)
            r["name"] = name
            r["account_id"] = acc_ids[k]
            if lead_l[k] >= 0:
                r["leads_id"] = lead_ids[k]
            r["tel" if en[k] else "mobile"] = phone
            r["email"] = email
            r["job_title"] = (P.JOB_TITLES_EN if en[k] else P.JOB_TITLES_CN)[job[k]]
            r["contact_role__c"] = ["decision_maker", "influencer", "user"][role[k]]
            r["stance__c"] = ["supporter", "neutral", "opponent"][stance[k]]
        return recs

    def crm_opportunities(self, idx: np.ndarray) -> list[dict]:
        O, s = self.s.opps, self.s
        t = "crm_opportunities"
        h = Hasher(self.seed, t)
        bad = O.bad[idx].tolist()
        owners = np.where(O.bad[idx] == OPP_NO_OWNER, -1, O.owner[idx]).tolist()
        recs = self._common(t, idx, O.ct[idx], O.lmt[idx], O.deleted[idx], O.ver[idx], owners)
        acc = O.acc[idx]
        names, _, _ = self.account_names(acc)
        acc_ids = self.ids("crm_accounts", acc)
        orphan_ids = self.ids("crm_accounts", s.accounts.n + 1_000_000 + idx)
        lead = O.lead[idx].tolist()
        lead_ids = self.ids("crm_leads", np.maximum(O.lead[idx], 0))
        amount, cur = O.amount[idx].tolist(), O.cur[idx].tolist()
        close, status, stage = O.close[idx].tolist(), O.status[idx].tolist(), O.stage[idx].tolist()
        pline = O.product_line[idx].tolist()
        stg_t = O.stg_t[idx].tolist()
        lf = s.opp_lf[np.minimum(idx, len(s.opp_lf) - 1)].tolist()
        fc_shift = (h.u01("fcshift", idx) < 0.3).tolist()
        loss = h.int("loss", idx, 0, len(LOSS_REASONS)).tolist()
        for k, r in enumerate(recs):
            st = stage[k]
            r["name"] = f"{names[k]}-{PRODUCT_LINES_CN[pline[k]]}项目"
            if bad[k] == OPP_ORPHAN:
                r["account_id"] = orphan_ids[k]
            else:
                r["account_id"] = acc_ids[k]
                r["account_id__r"] = names[k]
            if lead[k] >= 0:
                r["leads_id"] = lead_ids[k]
            r["amount"] = money(amount[k])
            r["mc_currency"] = CURRENCIES[cur[k]]
            if bad[k] != OPP_NO_CLOSE:
                r["close_date"] = close[k]
            r["sales_stage"] = STAGES[st]
            r["sales_status"] = ["in_progress", "won", "lost"][status[k]]
            r["probability"] = STAGE_PROB[st]
            fc = STAGE_FORECAST[st]
            if st == 3 and fc_shift[k]:
                fc = "best_case"
            elif st == 2 and fc_shift[k]:
                fc = "pipeline"
            r["forecast_category__c"] = fc
            r["product_line__c"] = PRODUCT_LINES[pline[k]]
            if status[k] == STATUS_LOST:
                r["loss_reason__c"] = LOSS_REASONS[loss[k]]
            r["stg_changed_time"] = stg_t[k]
            if lf[k]:
                r["last_followed_time"] = lf[k]
        return recs

    def crm_opportunity_stage_changes(self, idx: np.ndarray) -> list[dict]:
        S, O = self.s.sc, self.s.opps
        t = "crm_opportunity_stage_changes"
        opp = S.opp[idx]
        owners = np.where(O.bad[opp] == OPP_NO_OWNER, -1, O.owner[opp]).tolist()
        recs = self._common(t, idx, S.t[idx], S.lmt[idx], S.deleted[idx], np.zeros(len(idx), np.int16), owners)
        opp_ids = self.ids("crm_opportunities", opp)
        frm, to, tt = S.frm[idx].tolist(), S.to[idx].tolist(), S.t[idx].tolist()
        amt, close = S.amount[idx].tolist(), S.close[idx].tolist()
        no_close = (O.bad[opp] == OPP_NO_CLOSE).tolist()
        for k, r in enumerate(recs):
            r["name"] = f"SC-{idx[k] + 1:08d}"
            r["new_opportunity_id"] = opp_ids[k]
            if frm[k] >= 0:
                r["from_stage"] = STAGES[frm[k]]
            r["to_stage"] = STAGES[to[k]]
            r["changed_time"] = tt[k]
            r["amount"] = money(amt[k])
            if not no_close[k]:
                r["close_date"] = close[k]
            r["forecast_category__c"] = STAGE_FORECAST[to[k]]
        return recs

    def crm_activities(self, idx: np.ndarray) -> list[dict]:
        A, s = self.s.acts, self.s
        t = "crm_activities"
        h = Hasher(self.seed, t)
        recs = self._common(t, idx, A.t[idx], A.lmt[idx], A.deleted[idx], np.zeros(len(idx), np.int16), A.owner[idx].tolist())
        kind = A.rel_kind[idx].tolist()
        rel = A.rel[idx]
        lead_ids = self.ids("crm_leads", rel)
        opp_ids = self.ids("crm_opportunities", rel)
        typ = h.choice("type", idx, [0.45, 0.15, 0.25, 0.15]).tolist()
        txt = h.int("text", idx, 0, 3).tolist()
        tt = A.t[idx].tolist()
        types = ["call", "visit", "email", "meeting"]
        for k, r in enumerate(recs):
            ty = types[typ[k]]
            api, rid = ("LeadsObj", lead_ids[k]) if kind[k] == 0 else ("NewOpportunityObj", opp_ids[k])
            content = P.ACTIVITY_TEXT[ty][txt[k]]
            r["name"] = content[:20]
            r["active_record_type"] = ty
            r["active_record_content"] = content
            r["related_api_names"] = [api]
            r["related_object_data"] = [{"describe_api_name": api, "id": rid}]
            r["activity_time__c"] = tt[k]
        return recs

    def crm_quotas(self, idx: np.ndarray) -> list[dict]:
        s = self.s
        t = "crm_quotas"
        h = Hasher(self.seed, t)
        n_fy = len(s.fiscal_years)
        rep = (idx // n_fy)
        fy = np.array(s.fiscal_years)[idx % n_fy]
        ct = (np.array([T.START_MS - 30 * T.DAY_MS]) + (fy - 2024) * 365 * T.DAY_MS).astype(np.int64)
        ct = np.minimum(ct, T.AS_OF0_MS - T.DAY_MS)
        recs = self._common(t, idx, ct, ct + T.HOUR_MS, np.zeros(len(idx), bool), np.zeros(len(idx), np.int16), rep.tolist())
        base = (h.int("base", rep, 20, 45) * 10_000 * 100).tolist()  # cents per month
        growth = (1 + 0.1 * (fy - 2024)).tolist()
        months = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                  "october", "november", "december"]
        season = [0.7, 0.5, 1.1, 0.9, 0.9, 1.2, 0.9, 0.9, 1.3, 0.8, 1.0, 1.4]
        for k, r in enumerate(recs):
            uid = self.rep_uid(int(rep[k]))
            r["name"] = f"{self.user_names[s.rep_user0 + int(rep[k])]} {fy[k]} 销售目标"
            r["goal_user_id"] = uid
            r["fiscal_year"] = str(fy[k])
            total = 0
            for m, sf in zip(months, season):
                v = int(round(base[k] * growth[k] * sf / 10_000)) * 10_000
                total += v
                r[f"{m}_value"] = money(v)
            r["annual_value"] = money(total)
        return recs

    def crm_forecast_submissions(self, idx: np.ndarray) -> list[dict]:
        s = self.s
        t = "crm_forecast_submissions"
        h = Hasher(self.seed, t)
        rep = idx // s.n_months
        m = idx % s.n_months
        month = np.datetime64("2024-11", "M") + m.astype("timedelta64[M]")
        start = month.astype("datetime64[D]").astype(np.int64) * T.DAY_MS - T.TZ_OFFSET_MS
        sub = start + days_offset(h.int("day", idx, 0, 4)) + 10 * T.HOUR_MS
        recs = self._common(t, idx, sub, sub + 60_000, np.zeros(len(idx), bool), np.zeros(len(idx), np.int16), rep.tolist())
        actual = s.won_grid[rep, m]
        # Reps commit around what they will close; in months without a win half of them still
        # commit a deal that slips (over-forecast), so accuracy errors go both ways.
        slipped = np.where(h.u01("slipped", idx) < 0.5, 50_000 + 150_000 * h.u01("slipamt", idx), 0.0)
        base = np.where(actual > 0, actual * np.clip(0.9 + 0.15 * h.normal("commit", idx), 0.3, 1.6), slipped)
        commit = np.round(base / 1000) * 1000
        best = np.round(commit * (1.2 + 0.3 * h.u01("best", idx)) / 1000) * 1000
        adj = np.round(commit * np.clip(1.0 + 0.1 * h.normal("adj", idx), 0.6, 1.4) / 1000) * 1000
        has_adj = (h.u01("hasadj", idx) < 0.7).tolist()
        periods = np.datetime_as_string(month, unit="M").tolist()
        rl = rep.tolist()
        for k, r in enumerate(recs):
            r["name"] = f"{periods[k]} 预测"
            r["period"] = periods[k]
            r["submitted_time"] = r["create_time"]
            r["commit_amount"] = money(int(commit[k]) * 100)
            r["best_case_amount"] = money(int(best[k]) * 100)
            if has_adj[k]:
                r["manager_adjusted_amount"] = money(int(adj[k]) * 100)
            r["manager_id"] = self.user_ids[int(s.users.leader[s.rep_user0 + rl[k]])]
        return recs

    # --- directory (no paging, full snapshot) ---
    def departments(self) -> list[dict]:
        s = self.s
        out = [{"id": COMPANY_DEPT, "name": "沙箱科技有限公司", "parentId": 0, "isStop": False, "order": 0}]
        for r in range(4):
            out.append({"id": REGION_DEPT0 + r, "name": REGION_NAMES[r], "parentId": COMPANY_DEPT,
                        "isStop": False, "order": r + 1})
        for tm in range(s.n_teams):
            r = tm % 4
            label = f"International Team {tm // 4 + 1}" if r == 3 else f"{REGION_NAMES[r][:2]}销售{tm // 4 + 1}组"
            out.append({"id": TEAM_DEPT0 + tm, "name": label, "parentId": REGION_DEPT0 + r,
                        "isStop": False, "order": tm + 1})
        return out

    def users(self) -> list[dict]:
        u = self.s.users
        out = []
        for i in range(u.n):
            role, team, region = int(u.role[i]), int(u.team[i]), int(u.region[i])
            dept = TEAM_DEPT0 + team if team >= 0 else (REGION_DEPT0 + region if region >= 0 else COMPANY_DEPT)
            name = self.user_names[i]
            rec = {"openUserId": self.user_ids[i], "name": name, "nickName": name,
                   "email": self.user_emails[i].split("@")[0] + "@sandbox-corp.com", "mobile": self.user_mobiles[i],
                   "position": ROLE_POSITIONS[role], "departmentIds": [dept], "mainDepartmentId": dept,
                   "isStop": bool(u.stopped[i]), "createTime": int(u.ct[i])}
            if u.leader[i] >= 0:
                rec["leaderId"] = self.user_ids[int(u.leader[i])]
            out.append(rec)
        return out


def days_offset(d: np.ndarray) -> np.ndarray:
    return (d * T.DAY_MS).astype(np.int64)


__all__ = ["CrmWire", "API_NAMES", "CUSTOM_OBJECTS", "money"]
