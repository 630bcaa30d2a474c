"""The questionnaires a tenant starts with (editable in the admin, versioned from there). The
texts are data in the three languages customers answer in, not interface strings."""

CSAT = (
    "csat",
    "How satisfied are you with the service?",
    "Насколько вы довольны обслуживанием?",
    "Қызмет көрсетуге қаншалықты ризасыз?",
)
SOLVED = (
    "solved",
    "Was your problem solved?",
    "Ваша проблема решена?",
    "Мәселеңіз шешілді ме?",
)
NPS = (
    "nps",
    "How likely are you to recommend us to a friend?",
    "Насколько вероятно, что вы порекомендуете нас друзьям?",
    "Бізді досыңызға ұсыну ықтималдығыңыз қандай?",
)
CES = (
    "ces",
    "How easy was it to get your issue handled?",
    "Насколько легко было решить ваш вопрос?",
    "Мәселеңізді шешу қаншалықты оңай болды?",
)
COMMENT = (
    "text",
    "Anything you want to tell us?",
    "Что вы хотели бы нам сказать?",
    "Бізге не айтқыңыз келеді?",
)

# purpose → (name, questions in order)
TEMPLATES = {
    "after_visit": ("After a visit", [CSAT, SOLVED, NPS, CES, COMMENT]),
    "kiosk": ("Service point", [CSAT]),
    "ivr": ("Phone keypad", [CSAT, SOLVED]),
    "phone": ("Phone survey", [CSAT, SOLVED, NPS, COMMENT]),
}

AUDIT_ITEMS = [
    (
        3,
        "Greeted within a minute",
        "Поприветствовали в течение минуты",
        "Бір минут ішінде амандасты",
    ),
    (2, "Introduced themselves by name", "Представились по имени", "Атын айтып таныстырды"),
    (3, "Understood the request", "Поняли запрос", "Өтінішті түсінді"),
    (
        2,
        "Offered a clear next step",
        "Предложили понятный следующий шаг",
        "Келесі қадамды түсіндірді",
    ),
]
