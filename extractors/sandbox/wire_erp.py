"""ERP records in the Odoo `search_read` shape: `false` for empty, many2one as [id, name],
UTC `YYYY-MM-DD HH:MM:SS` datetimes, `YYYY-MM-DD` dates, JSON numbers for amounts, int ids."""

from __future__ import annotations

import numpy as np

from . import names as N
from . import timefmt as T
from .pools import Hasher
from .spine import CURRENCIES, Spine
from .wire_crm import PRODUCT_LINES, CrmWire

MODELS = {
    "erp_customers": "res.partner",
    "erp_products": "product.product",
    "erp_sales_orders": "sale.order",
    "erp_sales_order_lines": "sale.order.line",
    "erp_invoices": "account.move",
    "erp_payments": "account.payment",
}
CURRENCY_IDS = {"CNY": 7, "USD": 2, "EUR": 1, "HKD": 18}
ORPHAN_PARTNER_ID = 9_000_000
ORPHAN_INVOICE_ID = 9_500_000
N_PRODUCTS = 50
PRODUCT_NAMES = ["CRM 标准版", "CRM 企业版", "数据平台", "BI 分析套件", "移动销售助手", "工业网关", "边缘服务器",
                 "扫码终端", "实施服务包", "培训服务", "Cloud Subscription", "Support Plan"]
PAYMENT_TERMS = {30: [2, "30 Days"], 60: [3, "60 Days"]}
ORDER_STATES = ["draft", "sale", "done", "cancel"]
PAY_STATES = ["not_paid", "partial", "paid"]


def cur_m2o(code: str) -> list:
    return [CURRENCY_IDS[code], code]


def amount(cents: int) -> float:
    return round(cents / 100, 2)


class ErpWire:
    def __init__(self, spine: Spine, crm: CrmWire) -> None:
        self.s = spine
        self.crm = crm
        self.seed = spine.seed
        self._rep_names = crm.user_names

    def _user(self, rep: int) -> list:
        return [rep + 2, self._rep_names[self.s.rep_user0 + rep]]

    def customer_names(self, idx: np.ndarray) -> list[str]:
        C = self.s.customers
        h = Hasher(self.seed, "erp_customers")
        names, _, _ = self.crm.account_names(C.acc[idx])
        vary = ((C.dup[idx] & (h.u01("vdup", idx) < 0.7)) | (h.u01("vname", idx) < 0.15)).tolist()
        v = h.int("variant", idx, 0, 1000).tolist()
        return [N.company_variant(n, vv) if f else n for n, f, vv in zip(names, vary, v)]

    def erp_customers(self, idx: np.ndarray) -> list[dict]:
        C, A = self.s.customers, self.s.accounts
        h = Hasher(self.seed, "erp_customers")
        acc = C.acc[idx]
        names = self.customer_names(idx)
        _, domains, is_en = self.crm.account_names(acc)
        tax = self.crm.ident.tax_ids(A.ckey[acc])
        no_vat = C.no_vat[idx].tolist()
        ct, wd = T.odoo_datetime(C.ct[idx]), T.odoo_datetime(C.lmt[idx])
        rank = h.int("rank", idx, 1, 6).tolist()
        credit = (h.int("credit", idx, 5, 200) * 10_000).tolist()
        terms = np.where(h.u01("terms", idx) < 0.6, 30, 60).tolist()
        tel = h.int("tel", idx, 10_000_000, 99_999_999).tolist()
        active = C.active[idx].tolist()
        is_en_l = is_en.tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            en = is_en_l[k]
            city = names[k].split("(")[-1].split(")")[0] if en and "(" in names[k] else names[k][:2]
            out.append({
                "id": i + 1, "name": names[k], "display_name": names[k], "is_company": True,
                "vat": False if no_vat[k] else tax[k],
                "email": f"finance@{domains[k]}", "phone": f"+65 {tel[k]}" if en else f"0755-{tel[k]}",
                "street": False if en else f"{N.REGIONS[0][:0]}{names[k][:2]}工业园{tel[k] % 300}号",
                "city": city, "country_id": [48, "China"] if not en else [197, "Singapore"],
                "customer_rank": rank[k], "credit_limit": float(credit[k]),
                "property_payment_term_id": list(PAYMENT_TERMS[terms[k]]), "active": active[k],
                "create_date": ct[k], "write_date": wd[k],
            })
        return out

    def erp_products(self, idx: np.ndarray) -> list[dict]:
        h = Hasher(self.seed, "erp_products")
        ct_ms = T.START_MS - (h.int("ct", idx, 100, 900) * T.DAY_MS)
        ct = T.odoo_datetime(ct_ms)
        wd = T.odoo_datetime(ct_ms + h.int("wd", idx, 1, 90) * T.DAY_MS)
        price = (h.int("price", idx, 5, 500) * 10_000).tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            line = i % len(PRODUCT_LINES)
            out.append({
                "id": i + 1, "default_code": f"SKU-{i + 1:04d}",
                "name": f"{PRODUCT_NAMES[i % len(PRODUCT_NAMES)]} {chr(65 + i // len(PRODUCT_NAMES))}",
                "categ_id": [line + 1, PRODUCT_LINES[line]], "list_price": amount(price[k]),
                "currency_id": cur_m2o("CNY"), "active": i % 25 != 24,
                "create_date": ct[k], "write_date": wd[k],
            })
        return out

    def order_name(self, o: int) -> str:
        return f"S{o + 1:05d}"

    def erp_sales_orders(self, idx: np.ndarray) -> list[dict]:
        O, s = self.s.orders, self.s
        cust = O.cust[idx].tolist()
        cnames = self.customer_names(np.maximum(O.cust[idx], 0))
        opp = O.opp[idx]
        opp_ids = self.crm.ids("crm_opportunities", np.maximum(opp, 0))
        owner = np.where(opp >= 0, s.opps.owner[np.maximum(opp, 0)], 0).tolist()
        date = T.odoo_datetime(O.t[idx])
        wd = T.odoo_datetime(O.lmt[idx])
        amt, cur, state = O.amount[idx].tolist(), O.cur[idx].tolist(), O.state[idx].tolist()
        opp_l = opp.tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            tax = round(amt[k] * 0.13)
            partner = [cust[k] + 1, cnames[k]] if cust[k] >= 0 else [ORPHAN_PARTNER_ID + i, "Unknown partner"]
            out.append({
                "id": i + 1, "name": self.order_name(i), "partner_id": partner, "date_order": date[k],
                "amount_untaxed": amount(amt[k]), "amount_tax": amount(tax), "amount_total": amount(amt[k] + tax),
                "currency_id": cur_m2o(CURRENCIES[cur[k]]), "state": ORDER_STATES[state[k]],
                "user_id": self._user(owner[k]),
                "client_order_ref": opp_ids[k] if opp_l[k] >= 0 else False,
                "create_date": date[k], "write_date": wd[k],
            })
        return out

    def erp_sales_order_lines(self, idx: np.ndarray) -> list[dict]:
        O, s = self.s.orders, self.s
        h = Hasher(self.seed, "erp_sales_order_lines")
        order = s.lines_order[idx].astype(np.int64)
        first = s.line_off[order]
        k_lines = s.line_off[order + 1] - first
        pos = idx - first
        # Split each order amount by hashed weights (up to 4 lines); the last line takes the rest.
        j = np.arange(4)
        w = h.u01("w", (order[:, None] * 8 + j[None, :]).ravel()).reshape(-1, 4) + 0.2
        w = np.where(j[None, :] < k_lines[:, None], w, 0.0)
        total = O.amount[order]
        parts = np.floor(total[:, None] * w / w.sum(axis=1, keepdims=True) / 100).astype(np.int64) * 100
        head = np.where(j[None, :] < (k_lines - 1)[:, None], parts, 0).sum(axis=1)
        sub = np.where(pos == k_lines - 1, total - head, parts[np.arange(len(idx)), pos])
        qty = np.array([1, 2, 4, 5, 10])[h.int("qty", idx, 0, 5)]
        qty = np.where(sub % qty == 0, qty, 1)
        date = T.odoo_datetime(O.t[order])
        wd = T.odoo_datetime(O.lmt[order])
        pid = (h.int("prod", idx, 0, N_PRODUCTS) + 1).tolist()
        cur = [cur_m2o(CURRENCIES[c]) for c in O.cur[order].tolist()]
        out = []
        for k, (i, o, sb, q, p) in enumerate(zip(idx.tolist(), order.tolist(), sub.tolist(), qty.tolist(), pid)):
            out.append({
                "id": i + 1, "order_id": [o + 1, self.order_name(o)],
                "product_id": [p, f"[SKU-{p:04d}] {PRODUCT_NAMES[(p - 1) % len(PRODUCT_NAMES)]}"],
                "product_uom_qty": float(q), "price_unit": amount(sb // q), "price_subtotal": amount(sb),
                "currency_id": cur[k], "create_date": date[k], "write_date": wd[k],
            })
        return out

    def invoice_name(self, i: int, year: str) -> str:
        return f"INV/{year}/{i + 1:05d}"

    def erp_invoices(self, idx: np.ndarray) -> list[dict]:
        I, O = self.s.invoices, self.s.orders
        order = I.order[idx]
        cust = O.cust[order]
        cnames = self.customer_names(cust)
        date = T.shanghai_date(I.t[idx])
        due = T.shanghai_date(I.due[idx])
        ct = T.odoo_datetime(I.t[idx])
        wd = T.odoo_datetime(I.lmt[idx])
        total, resid, ps = I.total[idx].tolist(), I.residual[idx].tolist(), I.pstate[idx].tolist()
        cancel = I.cancel[idx].tolist()
        cur = O.cur[order].tolist()
        cust_l, order_l = cust.tolist(), order.tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            out.append({
                "id": i + 1, "name": self.invoice_name(i, date[k][:4]), "move_type": "out_invoice",
                "partner_id": [cust_l[k] + 1, cnames[k]], "invoice_origin": self.order_name(order_l[k]),
                "invoice_date": date[k], "invoice_date_due": due[k], "amount_total": amount(total[k]),
                "amount_residual": amount(resid[k]), "payment_state": PAY_STATES[ps[k]],
                "currency_id": cur_m2o(CURRENCIES[cur[k]]), "state": "cancel" if cancel[k] else "posted",
                "create_date": ct[k], "write_date": wd[k],
            })
        return out

    def erp_payments(self, idx: np.ndarray) -> list[dict]:
        Pm, I, O = self.s.payments, self.s.invoices, self.s.orders
        inv = Pm.inv[idx]
        has = inv >= 0
        order = np.where(has, I.order[np.maximum(inv, 0)], 0)
        cust = np.where(has, O.cust[order], 0)
        cnames = self.customer_names(np.maximum(cust, 0))
        date = T.shanghai_date(Pm.t[idx])
        ct = T.odoo_datetime(Pm.t[idx])
        wd = T.odoo_datetime(Pm.lmt[idx])
        amt = Pm.amount[idx].tolist()
        cur = np.where(has, O.cur[order], 0).tolist()
        has_l, cust_l, inv_l, cancel = has.tolist(), cust.tolist(), inv.tolist(), Pm.cancel[idx].tolist()
        out = []
        for k, i in enumerate(idx.tolist()):
            if has_l[k]:
                partner = [cust_l[k] + 1, cnames[k]]
                rec_ids = [inv_l[k] + 1]
            else:
                partner = [ORPHAN_PARTNER_ID + 500_000 + i, "Unknown partner"]
                rec_ids = [ORPHAN_INVOICE_ID + i]
            out.append({
                "id": i + 1, "name": f"PBNK1/{date[k][:4]}/{i + 1:05d}", "partner_id": partner,
                "amount": amount(amt[k]), "date": date[k], "currency_id": cur_m2o(CURRENCIES[cur[k]]),
                "payment_type": "inbound", "reconciled_invoice_ids": rec_ids,
                "state": "cancel" if cancel[k] else "posted", "create_date": ct[k], "write_date": wd[k],
            })
        return out
