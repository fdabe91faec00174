"""The fixed parts of the demo county: places, accounts and the word lists people are drawn from.

Every place and person here is invented. No name may come from the seed document (it names real
officials); given names are drawn at random from the character lists below.
"""

from __future__ import annotations

#: The fictional county seat; every office lies within about 30 km of it.
COUNTY_SEAT = (24.70, 107.50)
COUNTY_SEAT_NAME = "县城"

#: (code, name, lat, lon) of the 14 township judicial offices; the first ten have an officer.
OFFICES = (
    ("QS01", "青石乡司法所", 24.7826, 107.5763),
    ("YT01", "云台镇司法所", 24.7000, 107.5000),
    ("BS01", "白沙乡司法所", 24.6890, 107.6379),
    ("SL01", "松岭乡司法所", 24.6144, 107.5544),
    ("LX01", "柳溪镇司法所", 24.5649, 107.4459),
    ("GS01", "桂山乡司法所", 24.6601, 107.3792),
    ("LT01", "龙潭乡司法所", 24.7449, 107.4144),
    ("FM01", "凤鸣镇司法所", 24.8519, 107.4391),
    ("SM01", "石门乡司法所", 24.7737, 107.7230),
    ("ML01", "梅岭乡司法所", 24.5660, 107.7106),
    ("ZL01", "竹林乡司法所", 24.4494, 107.5241),
    ("FP01", "枫坪乡司法所", 24.5441, 107.2955),
    ("HT01", "荷塘乡司法所", 24.7581, 107.2612),
    ("QX01", "清溪乡司法所", 24.9566, 107.5498),
)
#: The office in the county seat: its subjects' allowed zone is a polygon around the town.
SEAT_OFFICE = "YT01"
#: Ten officers for fourteen offices, as in the seed county: the last four offices have none.
OFFICES_WITH_OFFICER = 10

#: Documented demo passwords (README.md). A demo database must never face the internet.
ADMIN_PASSWORD = "demo-admin-2026"
SUPERVISOR_PASSWORD = "demo-supervisor-2026"
VIEWER_PASSWORD = "demo-viewer-2026"
OFFICER_PASSWORD = "demo-officer-2026"
#: Every demo subject's phone PIN.
SUBJECT_PIN = "2468"

#: (username, role, password) of the county-level accounts.
COUNTY_ACCOUNTS = (
    ("admin", "admin", ADMIN_PASSWORD, "县局系统管理员"),
    ("supervisor", "supervisor", SUPERVISOR_PASSWORD, "周建华"),
    ("viewer", "viewer", VIEWER_PASSWORD, "指挥中心值班"),
)

#: The display names of the office officers (officer01, officer02, ...), as the pages show them.
OFFICER_NAMES = (
    "李卫东",
    "王秀兰",
    "张国强",
    "刘海燕",
    "陈志明",
    "杨丽华",
    "赵建军",
    "黄美玲",
    "吴永平",
    "周晓梅",
    "徐德胜",
    "孙桂芳",
    "马文斌",
    "朱春燕",
)


def officer_username(number: int) -> str:
    """officer01, officer02, ... in office order."""
    return f"officer{number:02d}"


#: Common surnames, weighted towards the region's; two compound ones so masking shows 欧阳**华.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高宋郑谢唐冯邓曹彭曾潘蒋蔡余杜叶程魏苏吕丁沈"
    "韦覃蓝莫陆农卢廖黎"
)
COMPOUND_SURNAMES = ("欧阳", "司马")
#: Characters for given names (one or two of them).
GIVEN_CHARS = (
    "建国明华军伟强海平东文杰志勇春燕丽芳红霞玲秀英兰凤成林斌宁涛鹏飞超波辉刚峰磊晨"
    "俊浩宇航昊天瑞嘉欣怡静婷雪梅慧敏鑫源振宏福安康乐永德荣光"
)

#: Names of exclusion zones: places a court order or the supervision plan keeps a subject away from.
EXCLUSION_ZONE_NAMES = (
    "中心小学周边",
    "被害人住所周边",
    "集贸市场娱乐场所",
    "水库工地",
    "网吧一条街",
)

#: Notes officers leave when resolving an alert, by kind.
RESOLVE_NOTES = {
    "missed_checkin": (
        "电话联系本人，称手机没电未能签到，已补报并进行教育。",
        "本人当日在田里干活忘记签到，已口头警示。",
        "入户走访核实本人在家，已督促按时签到。",
    ),
    "geofence_exit": (
        "电话核实：本人到县城医院看病，已当日返回，提醒外出须先请假。",
        "本人赶集后已返回，进行谈话教育。",
    ),
    "exclusion_zone": ("本人称路过，已谈话教育并重申禁止令内容。",),
}
#: Reasons officers give when dismissing an alert as a false positive, by kind.
DISMISS_REASONS = {
    "geofence_exit": ("定位漂移：当时本人在家，有村干部证明。",),
    "exclusion_zone": ("定位误差：本人在相邻道路上，未进入禁止区域。",),
}
