"""English formats: only what differs from Django's own `en` locale.

Django's English dates are American (11/28/2026, "Nov. 28, 2026", "2:30 p.m."). Our
English readers are colleagues and partners across Europe as much as in the US, and
03/04/2026 means 3 April to half of them and 4 March to the other half: naming the month
is unambiguous for everybody, and the 24-hour clock matches the German pages. Numbers
(1,234.56) come from Django's `en` locale unchanged.
"""

DATE_FORMAT = "j F Y"  # 28 November 2026
SHORT_DATE_FORMAT = "j M Y"  # 28 Nov 2026
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "j F Y, H:i"  # 28 November 2026, 14:30
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 28 Nov 2026, 14:30
FIRST_DAY_OF_WEEK = 1  # Monday, as in the rest of Europe
YEAR_MONTH_FORMAT = "M Y"  # Dec 2026: a month of the customer values, short for axes
