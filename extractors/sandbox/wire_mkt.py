"""Marketing records in the HubSpot style: {id, properties (all strings), createdAt, updatedAt, archived}."""

from __future__ import annotations

import numpy as np

from . import timefmt as T
from .pools import Hasher
from .spine import CHANNELS, Spine
from .wire_crm import CrmWire, money

PATHS = {
    "mkt_campaigns": "/marketing/v3/campaigns",
    "mkt_campaign_daily_metrics": "/marketing/v3/campaigns/metrics/daily",
    "mkt_form_submissions": "/marketing/v3/forms/submissions",
    "mkt_engagement_events": "/events/v3/events",
}
# Ids are numeric strings, fixed width inside a stream so string order = numeric order.
ID_BASE = {"mkt_campaigns": 100_000_000, "mkt_campaign_daily_metrics": 200_000_000,
           "mkt_form_submissions": 300_000_000, "mkt_engagement_events": 400_000_000}
THEMES = ["春季新品发布", "Digital Summit", "行业解决方案", "Customer Success", "年终促销", "AI Roadshow",
          "渠道伙伴大会", "Product Webinar"]
UTM_MEDIUM = {"ads": "cpc", "trade_show": "event", "webinar": "webinar", "social": "social",
              "website": "organic", "referral": "referral", "email": "email"}
EVENT_TYPES = ["email_open", "email_click", "page_view", "content_download", "webinar_attend"]


def _record(i: str, props: dict, created: str, updated: str, archived: bool) -> dict:
    return {"id": i, "properties": props, "createdAt": created, "updatedAt": updated, "archived": archived}


class MktWire:
    def __init__(self, spine: Spine, crm: CrmWire) -> None:
        self.s = spine
        self.crm = crm
        self.seed = spine.seed

    def campaign_id(self, c: int) -> str:
        return str(ID_BASE["mkt_campaigns"] + c)

    def mkt_campaigns(self, idx: np.ndarray) -> list[dict]:
        C = self.s.camp
        h = Hasher(self.seed, "mkt_campaigns")
        ct = T.iso_utc(C.ct[idx])
        up = T.iso_utc(C.lmt[idx])
        start = T.shanghai_date(T.START_MS + C.start_day[idx] * T.DAY_MS)
        end = T.shanghai_date(T.START_MS + C.end_day[idx] * T.DAY_MS)
        year = [s[:4] for s in start]
        theme = h.int("theme", idx, 0, len(THEMES)).tolist()
        budget = (C.budget[idx] + C.ver[idx].astype(np.int64) * 500_000).tolist()
        chans, arch = C.channel[idx].tolist(), C.archived[idx].tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            ch = CHANNELS[chans[k]]
            props = {"name": f"{year[k]} {THEMES[theme[k]]} ({ch}) #{i + 1}", "channel": ch,
                     "start_date": start[k], "end_date": end[k], "budget": money(budget[k]), "currency": "CNY"}
            out.append(_record(self.campaign_id(i), props, ct[k], up[k], arch[k]))
        return out

    def mkt_campaign_daily_metrics(self, idx: np.ndarray) -> list[dict]:
        M, C = self.s.metrics, self.s.camp
        h = Hasher(self.seed, "mkt_campaign_daily_metrics")
        camp = M.camp[idx]
        days = C.days0[camp]
        spend = np.round(C.budget[camp] / days * (0.6 + 0.8 * h.u01("spend", idx))).astype(np.int64)
        impressions = np.round(spend / 100 * (3 + 20 * h.u01("imp", idx))).astype(np.int64)
        clicks = np.round(impressions * (0.005 + 0.03 * h.u01("ctr", idx))).astype(np.int64)
        date = T.shanghai_date(T.START_MS + M.day[idx].astype(np.int64) * T.DAY_MS)
        ts = T.iso_utc(M.lmt[idx])
        camp_l, arch = camp.tolist(), M.archived[idx].tolist()
        spend, impressions, clicks = spend.tolist(), impressions.tolist(), clicks.tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            props = {"campaign_id": self.campaign_id(camp_l[k]), "date": date[k], "spend": money(spend[k]),
                     "currency": "CNY", "impressions": str(impressions[k]), "clicks": str(clicks[k])}
            out.append(_record(str(ID_BASE["mkt_campaign_daily_metrics"] + i), props, ts[k], ts[k],
                               arch[k]))
        return out

    def mkt_form_submissions(self, idx: np.ndarray) -> list[dict]:
        """`idx` are submission indices (not served rows; rows may repeat a submission)."""
        S, L = self.s.subs, self.s.leads
        h = Hasher(self.seed, "mkt_form_submissions")
        lead = S.lead[idx].astype(np.int64)
        ppl = self.crm.lead_people(lead)
        lead_ids = self.crm.ids("crm_leads", lead)
        camp = L.campaign[lead].tolist()
        chan = L.channel[lead].tolist()
        known = S.known[idx].tolist()
        form = h.int("form", idx, 1, 4).tolist()
        sub_at = T.iso_utc(S.t[idx])
        up = T.iso_utc(S.lmt[idx])
        arch = S.archived[idx].tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            ch = CHANNELS[chan[k]]
            props = {"form_id": f"form-{ch}-{form[k]}", "submitted_at": sub_at[k], "utm_source": ch,
                     "utm_medium": UTM_MEDIUM[ch]}
            if camp[k] >= 0:
                props["campaign_id"] = self.campaign_id(camp[k])
                props["utm_campaign"] = f"cmp{camp[k] + 1}"
            for f in ("name", "email", "phone", "company", "job_title"):
                v = ppl[f][k]
                if v is not None:
                    props[f] = v
            if known[k]:
                props["crm_lead_id"] = lead_ids[k]
            out.append(_record(str(ID_BASE["mkt_form_submissions"] + i), props, sub_at[k], up[k],
                               arch[k]))
        return out

    def mkt_engagement_events(self, idx: np.ndarray) -> list[dict]:
        E, L = self.s.events, self.s.leads
        h = Hasher(self.seed, "mkt_engagement_events")
        lead = E.lead[idx].astype(np.int64)
        ppl = self.crm.lead_people(lead)
        lead_ids = self.crm.ids("crm_leads", lead)
        camp = L.campaign[lead].tolist()
        typ = h.choice("type", idx, [0.35, 0.15, 0.3, 0.12, 0.08]).tolist()
        ts = T.iso_utc(E.t[idx])
        arch = E.archived[idx].tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            props = {"event_type": EVENT_TYPES[typ[k]], "occurred_at": ts[k], "crm_lead_id": lead_ids[k]}
            if camp[k] >= 0:
                props["campaign_id"] = self.campaign_id(camp[k])
            if ppl["email"][k] is not None:
                props["email"] = ppl["email"][k].strip().lower()
            out.append(_record(str(ID_BASE["mkt_engagement_events"] + i), props, ts[k], ts[k],
                               arch[k]))
        return out
