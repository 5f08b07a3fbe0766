"""Indian number and date conventions shared by every shipped locale."""

SHORT_DATE_FORMAT = "d-m-Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "j M Y, g:i A"
SHORT_DATETIME_FORMAT = "d-m-Y g:i A"
FIRST_DAY_OF_WEEK = 1
DATE_INPUT_FORMATS = ["%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
# The last three digits, then groups of two: 12,34,567 and 1,00,00,000 (one crore).
NUMBER_GROUPING = (3, 2, 0)
