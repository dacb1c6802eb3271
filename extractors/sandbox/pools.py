"""Word pools and the counter-based hash every sandbox value is drawn from.

Every value of the world is a pure function of (seed, stream, field, index): `Hasher.u64`
mixes those with splitmix64, vectorised over numpy index arrays, so any record can be
computed on its own (random access, lazy) and the same seed always gives the same bytes.
"""

from __future__ import annotations

import hashlib

import numpy as np

_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / (1 << 53)


def splitmix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic is intended)."""
    with np.errstate(over="ignore"):
        x = x + _G
        x = (x ^ (x >> _S30)) * _M1
        x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def key64(*parts: object) -> int:
    """A stable 64-bit key for a tuple of names (Python's hash() is salted per process)."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


class Hasher:
    """Draws for one (seed, stream): `u64(field, idx)` is reproducible per record."""

    def __init__(self, seed: int, stream: str) -> None:
        self.seed = seed
        self.stream = stream
        self._keys: dict[str, np.uint64] = {}

    def _key(self, field: str) -> np.uint64:
        k = self._keys.get(field)
        if k is None:
            k = self._keys[field] = np.uint64(key64(self.seed, self.stream, field))
        return k

    def u64(self, field: str, idx: np.ndarray) -> np.ndarray:
        return splitmix(idx.astype(np.uint64, copy=False) ^ self._key(field))

    def u01(self, field: str, idx: np.ndarray) -> np.ndarray:
        return (self.u64(field, idx) >> _S11).astype(np.float64) * _INV53

    def int(self, field: str, idx: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Uniform integers in [lo, hi)."""
        return lo + (self.u64(field, idx) % np.uint64(hi - lo)).astype(np.int64)

    def choice(self, field: str, idx: np.ndarray, weights: list[float]) -> np.ndarray:
        """Weighted category index per record."""
        cum = np.cumsum(np.asarray(weights, dtype=np.float64))
        return np.searchsorted(cum / cum[-1], self.u01(field, idx), side="right").astype(np.int8)

    def normal(self, field: str, idx: np.ndarray) -> np.ndarray:
        """Standard normal via Box-Muller on two independent draws."""
        u1 = np.maximum(self.u01(field + ".a", idx), 1e-12)
        u2 = self.u01(field + ".b", idx)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


# --- people ---------------------------------------------------------------------------

CN_SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"),
    ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"), ("杜", "du"),
    ("叶", "ye"), ("程", "cheng"), ("苏", "su"), ("魏", "wei"), ("吕", "lv"), ("丁", "ding"),
    ("任", "ren"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"), ("姜", "jiang"), ("崔", "cui"),
    ("钟", "zhong"), ("谭", "tan"), ("陆", "lu"), ("汪", "wang"), ("范", "fan"), ("金", "jin"),
]
CN_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"),
    ("建华", "jianhua"), ("文", "wen"), ("华", "hua"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
    ("晓东", "xiaodong"), ("雪", "xue"), ("琳", "lin"), ("浩", "hao"), ("宇", "yu"), ("欣怡", "xinyi"),
    ("子轩", "zixuan"), ("梓涵", "zihan"), ("俊杰", "junjie"), ("佳怡", "jiayi"), ("思远", "siyuan"),
    ("晨", "chen"), ("博", "bo"), ("婷", "ting"), ("鹏", "peng"), ("辉", "hui"), ("斌", "bin"),
    ("颖", "ying"), ("倩", "qian"), ("凯", "kai"), ("玉兰", "yulan"), ("国庆", "guoqing"),
]
EN_FIRST = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Emma", "Mark", "Sophie",
    "Lukas", "Anna", "Felix", "Lena", "Hans", "Julia", "Pierre", "Camille", "Marco", "Giulia",
    "Kenji", "Yuki", "Raj", "Priya", "Oliver", "Chloe", "Noah", "Mia", "Ethan", "Olivia",
]
EN_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "White", "Harris", "Clark",
    "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Dubois", "Moreau", "Rossi",
    "Bianchi", "Tanaka", "Suzuki", "Sharma", "Patel", "Wong", "Chan", "Lee", "Ng", "Cheung", "Ho",
]

JOB_TITLES_CN = ["总经理", "采购经理", "IT总监", "技术经理", "财务总监", "运营总监", "销售总监", "项目经理",
                 "工程师", "市场经理", "副总裁", "信息化主管"]
JOB_TITLES_EN = ["CEO", "Procurement Manager", "IT Director", "CTO", "CFO", "Head of Operations",
                 "Sales Director", "Project Manager", "Engineer", "Marketing Manager", "VP Sales",
                 "IT Manager"]

# --- companies ------------------------------------------------------------------------
# A company's identity is (city, core, industry) for Chinese names and (prefix, mid, noun) for
# English ones; the legal suffix is NOT part of it, because normalisation strips suffixes.

CN_CITIES = [
    ("北京", "bj"), ("上海", "sh"), ("深圳", "sz"), ("广州", "gz"), ("杭州", "hz"), ("苏州", "suz"),
    ("南京", "nj"), ("成都", "cd"), ("武汉", "wh"), ("西安", "xa"), ("天津", "tj"), ("重庆", "cq"),
    ("青岛", "qd"), ("厦门", "xm"), ("宁波", "nb"), ("长沙", "cs"), ("郑州", "zz"), ("合肥", "hf"),
    ("济南", "jn"), ("无锡", "wx"), ("东莞", "dg"), ("佛山", "fs"), ("大连", "dl"), ("沈阳", "sy"),
    ("福州", "fz"), ("昆明", "km"), ("南昌", "nc"), ("常州", "cz"), ("珠海", "zh"), ("温州", "wz"),
    ("石家庄", "sjz"), ("太原", "ty"), ("贵阳", "gy"), ("南宁", "nn"), ("哈尔滨", "hrb"), ("烟台", "yt"),
]
CN_CORE = [
    ("华", "hua"), ("信", "xin"), ("瑞", "rui"), ("达", "da"), ("中", "zhong"), ("科", "ke"),
    ("天", "tian"), ("元", "yuan"), ("恒", "heng"), ("通", "tong"), ("博", "bo"), ("创", "chuang"),
    ("云", "yun"), ("帆", "fan"), ("智", "zhi"), ("联", "lian"), ("鼎", "ding"), ("盛", "sheng"),
    ("海", "hai"), ("纳", "na"), ("新", "xin"), ("宏", "hong"), ("远", "yuan"), ("兴", "xing"),
    ("泰", "tai"), ("安", "an"), ("金", "jin"), ("龙", "long"), ("凯", "kai"), ("德", "de"),
    ("嘉", "jia"), ("汇", "hui"), ("正", "zheng"), ("明", "ming"), ("辰", "chen"), ("星", "xing"),
    ("光", "guang"), ("启", "qi"), ("航", "hang"), ("昊", "hao"), ("蓝", "lan"), ("峰", "feng"),
    ("锐", "rui"), ("尚", "shang"), ("东", "dong"), ("方", "fang"), ("卓", "zhuo"), ("越", "yue"),
    ("诚", "cheng"), ("润", "run"), ("易", "yi"), ("迅", "xun"), ("力", "li"), ("捷", "jie"),
    ("永", "yong"), ("佳", "jia"), ("腾", "teng"), ("飞", "fei"), ("宇", "yu"), ("合", "he"),
    ("万", "wan"), ("邦", "bang"), ("立", "li"), ("丰", "feng"), ("思", "si"), ("源", "yuan"),
    ("晶", "jing"), ("芯", "xin"), ("赛", "sai"), ("众", "zhong"), ("和", "he"), ("美", "mei"),
    ("鑫", "xin"), ("亿", "yi"), ("昌", "chang"), ("旭", "xu"), ("茂", "mao"), ("祥", "xiang"),
    ("威", "wei"), ("普", "pu"), ("朗", "lang"), ("森", "sen"), ("拓", "tuo"), ("铭", "ming"),
    ("振", "zhen"), ("弘", "hong"), ("景", "jing"), ("欣", "xin"), ("驰", "chi"), ("策", "ce"),
]
CN_INDUSTRY = [
    ("科技", "tech"), ("信息技术", "it"), ("电子", "elec"), ("医疗器械", "med"), ("制造", "mfg"),
    ("物流", "log"), ("贸易", "trade"), ("软件", "soft"), ("新能源", "energy"), ("生物", "bio"),
    ("汽车零部件", "auto"), ("精密机械", "mach"), ("数据服务", "data"), ("环保", "env"), ("材料", "mat"),
    ("食品", "food"),
]
CN_SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司"]

EN_PREFIX = [
    "Blue", "Silver", "North", "Bright", "Apex", "Nova", "Terra", "Vertex", "Summit", "Harbor",
    "Cedar", "Falcon", "Orion", "Atlas", "Pioneer", "Quantum", "Crystal", "Iron", "Golden", "Delta",
    "Stellar", "Evergreen", "Redwood", "Horizon", "Zenith", "Polar", "Sunrise", "Coastal", "Alpine",
    "Granite", "Meridian", "Beacon", "Cobalt", "Lumen", "Vector", "Titan", "Aurora", "Nordic",
    "Pacific", "Atlantic",
]
EN_MID = [
    "peak", "line", "wind", "stone", "field", "bridge", "gate", "wave", "point", "ridge", "core",
    "path", "star", "light", "works", "forge", "view", "port", "rock", "leaf",
]
EN_NOUN = [
    "Systems", "Technologies", "Logistics", "Industries", "Medical", "Data", "Software", "Energy",
    "Robotics", "Analytics", "Devices", "Materials", "Networks", "Foods", "Instruments",
]
EN_SUFFIXES = ["Co., Ltd.", "Inc.", "GmbH", "Ltd.", "LLC"]

INDUSTRIES = ["manufacturing", "it_services", "healthcare", "logistics", "retail", "energy",
              "finance", "education", "automotive", "electronics"]
CITIES_EN = ["Hamburg", "Munich", "Singapore", "Hong Kong", "London", "San Jose", "Tokyo", "Paris"]
STREETS_CN = ["中山路", "人民路", "解放路", "建设路", "科技园路", "高新大道", "滨江大道", "长江路", "创业路", "工业园大道"]

MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "158", "159", "176", "177", "180", "181", "182", "185",
                   "186", "187", "188", "189", "191", "198", "199", "166"]
INTL_DIAL = [("+49", 9), ("+1", 10), ("+852", 8), ("+44", 10), ("+65", 8), ("+81", 10), ("+33", 9)]

ACTIVITY_TEXT = {
    "call": ["电话沟通需求，客户关注价格", "Call: discussed timeline and budget", "电话回访，约定下次演示"],
    "visit": ["上门拜访，见到采购负责人", "On-site visit with IT team", "拜访客户，了解现有系统"],
    "email": ["发送产品资料和报价", "Sent proposal by email", "邮件跟进试用反馈"],
    "meeting": ["线上会议演示产品", "Meeting: demo for stakeholders", "方案评审会议"],
}

FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))}
FULLWIDTH[" "] = "\u3000"


def to_fullwidth(text: str) -> str:
    return "".join(FULLWIDTH.get(c, c) for c in text)
