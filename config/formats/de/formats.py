"""German formats: only what differs from Django's own `de` locale."""

# A month of the customer values ("Dez. 2023"): Django's "Dezember 2023" is too long for
# timelines and chart axes, "12.2023" reads like a date.
YEAR_MONTH_FORMAT = "N Y"
