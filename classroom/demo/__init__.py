"""The demo school that `seed_demo` creates: the cast here (which `make run` prints), the
coursework in `classroom.demo.coursework`."""

DEMO_PASSWORD = "cuba-1962"  # noqa: S105 - published on purpose; seed_demo refuses production

HEAD = ("head.ross", "Helen", "Ross")
TEACHERS = [("ms.khan", "Amira", "Khan"), ("mr.evans", "David", "Evans")]
CLASS_NAME = "10H History"
CLASS_YEAR = 10
CLASS_JOIN_CODE = "CUBA6228"
OTHER_CLASS_NAME = "11E History"
OTHER_CLASS_JOIN_CODE = "THAW6357"

STUDENTS = [
    ("Amelia", "Brown"),
    ("Oliver", "Smith"),
    ("Isla", "Jones"),
    ("Noah", "Taylor"),
    ("Ava", "Williams"),
    ("Leo", "Davies"),
    ("Mia", "Evans"),
    ("Arthur", "Thomas"),
    ("Freya", "Johnson"),
    ("Oscar", "Roberts"),
    ("Grace", "Walker"),
    ("Harry", "Wright"),
    ("Lily", "Robinson"),
    ("George", "Thompson"),
    ("Ella", "White"),
    ("Jack", "Hughes"),
    ("Sophia", "Edwards"),
    ("Muhammad", "Green"),
    ("Ivy", "Hall"),
    ("Theo", "Wood"),
    ("Rosie", "Harris"),
    ("Alfie", "Martin"),
    ("Zara", "Patel"),
    ("Finley", "Clarke"),
    ("Hannah", "Begum"),
]


def student_username(given: str, family: str) -> str:
    return f"{given}.{family}".lower()
