"""Reading contact files: encodings, delimiters, vCard versions, and the guessed column mapping."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from contacts.export import COLUMNS, HEADERS, VCARD_HEADERS
from contacts.importers import csvfile, decoding, vcard
from contacts.importers.mapping import IGNORE, check_mapping, guess, row_values
from contacts.models import CustomField

FILES = Path(__file__).parent / "files"


def read(name: str) -> tuple[str, list[str], list[csvfile.Record]]:
    """(encoding, headers, records) of a sample file, read as the import reads it."""
    stream = io.BytesIO((FILES / name).read_bytes())
    encoding = decoding.detect(stream).encoding
    lines = list(decoding.text_lines(stream, encoding))
    if vcard.looks_like_vcard("".join(lines[:5])):
        return encoding, list(VCARD_HEADERS), list(vcard.read_records(iter(lines)))
    headers, records = csvfile.read_records(iter(lines), csvfile.sniff_delimiter(lines[:50]))
    return encoding, headers, list(records)


def values_of(name: str) -> list:
    """The rows of a sample file through the guessed mapping (a ValidationError in place of a rejected row)."""
    _encoding, headers, records = read(name)
    fields = guess(headers, [])
    result = []
    for record in records:
        if record.error:
            result.append(ValidationError(record.error))
            continue
        try:
            result.append(row_values(record.cells, fields, {}))
        except ValidationError as error:
            result.append(error)
    return result


def mapping_of(headers: list[str], custom_fields=()) -> dict[str, str]:
    targets = guess(headers, list(custom_fields))
    return {header: target for header, target in zip(headers, targets, strict=True) if target != IGNORE}


# Encodings and delimiters --------------------------------------------------------------


def test_utf8_with_bom_reads_bengali_and_kannada_names():
    encoding, headers, _records = read("utf8_bom.csv")
    assert encoding == "utf-8-sig"
    assert headers[0] == "Given name"  # no BOM left in the first header
    first, second = values_of("utf8_bom.csv")
    assert first.fields["display_name"] == "সৌমিত্র চট্টোপাধ্যায়"
    assert second.fields["given_name"] == "ಪುನೀತ್"


def test_excel_unicode_text_is_utf16_with_tabs():
    encoding, headers, _records = read("unicode_text.txt")
    assert encoding == "utf-16"
    assert headers == ["First Name", "Last Name", "E-mail Address"]
    first, second = values_of("unicode_text.txt")
    assert first.fields["display_name"] == "अमिताभ बच्चन"
    assert first.emails == ["amitabh@example.in"]
    assert second.fields["family_name"] == "Tendulkar"


def test_utf16_without_bom_is_recognised():
    data = "Name\tEmail\nAsha\tasha@example.com\n".encode("utf-16-le")
    assert decoding.detect(io.BytesIO(data)).encoding == "utf-16-le"


def test_semicolon_delimiter_is_sniffed_and_quoted_semicolons_kept():
    _encoding, headers, _records = read("semicolon.csv")
    assert headers == ["First Name", "Last Name", "Email", "City"]
    lena, jean = values_of("semicolon.csv")
    assert lena.fields["family_name"] == "Müller"
    assert jean.fields["city"] == "Paris; 8e"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_usual_delimiter_is_sniffed(delimiter):
    lines = [delimiter.join(["First Name", "Last Name", "City"]) + "\n", delimiter.join(["A", "B", "C"]) + "\n"]
    assert csvfile.sniff_delimiter(lines) == delimiter


def test_latin1_file_is_read_with_a_reported_fallback():
    encoding, _headers, _records = read("latin1.csv")
    assert encoding == "cp1252"
    assert "Windows-1252" in decoding.fallback_notice(encoding)
    jose, francois = values_of("latin1.csv")
    assert jose.fields["display_name"] == "José Müller"
    assert francois.fields["city"] == "Besançon"


def test_utf8_file_gets_no_fallback_notice():
    assert decoding.fallback_notice("utf-8") == ""


def test_broken_utf16_gives_a_clear_message_not_a_crash():
    data = b"\xff\xfe" + "Name\n".encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate at the end
    with pytest.raises(decoding.UnreadableFile, match="UTF-16"):
        decoding.detect(io.BytesIO(data))


def test_nul_bytes_and_control_characters_are_stripped():
    asha, vijay = values_of("nul_bytes.csv")
    _encoding, _headers, records = read("nul_bytes.csv")
    assert [record.line for record in records] == [2, 4]  # a line of NULs only is a blank line
    assert asha.fields["given_name"] == "Asha"
    assert asha.fields["family_name"] == "Rao"
    assert asha.emails == ["asha.rao@example.com"]
    assert vijay.fields["display_name"] == "Vijay Das"


def test_line_numbers_count_physical_lines_including_quoted_newlines():
    lines = io.StringIO('Name,Address\n"Asha","1 Road\nBlock B"\n\nRavi,x\n').readlines()
    _headers, records = csvfile.read_records(iter(lines), ",")
    assert [(record.line, record.cells[0]) for record in records] == [(2, "Asha"), (5, "Ravi")]


def test_a_row_with_more_cells_than_columns_is_rejected():
    _headers, records = csvfile.read_records(iter(["Name,City\n", "Asha,Pune,extra\n", "Ravi,Goa,\n"]), ",")
    asha, ravi = records
    assert "3 cells" in asha.error
    assert ravi.error == ""


def test_html_is_kept_as_plain_text():
    values = row_values(["<b>Asha</b><script>x()</script>"], ["display_name"], {})
    assert values.fields["display_name"] == "<b>Asha</b><script>x()</script>"


# vCard ---------------------------------------------------------------------------------


def test_vcard_21_quoted_printable_soft_breaks_folding_and_groups():
    _encoding, _headers, records = read("vcard21.vcf")
    anita, joseph = values_of("vcard21.vcf")
    assert records[0].line == 1 and records[1].line == 20
    assert anita.fields["given_name"] == "अनिता"
    assert anita.fields["family_name"] == "शर्मा"
    assert anita.fields["display_name"] == "अनिता शर्मा"
    assert anita.emails == ["anita.sharma@example.in", "anita@work.example"]  # item1.EMAIL included
    assert anita.phones == ["+919845011111", "+918022223333"]
    assert anita.fields["company"] == "Sharma Exports"
    assert anita.fields["job_title"] == "Managing Director"  # folded line
    assert anita.fields["address_line"] == "221 Linking Road\nBandra West"
    assert (anita.fields["city"], anita.fields["postcode"], anita.fields["country"]) == ("Mumbai", "400050", "IN")
    assert joseph.fields["display_name"] == "Joseph Fernandes"  # N only, no FN


def test_vcard_30_escapes_and_categories():
    [sourav] = values_of("vcard30.vcf")
    assert sourav.fields["display_name"] == "Sourav Banerjee"
    assert sourav.emails == ["sourav@bengaltigers.example", "dada@example.in"]
    assert sourav.fields["address_line"] == "Eden Gardens, Gate 3"
    assert sourav.fields["state"] == "West Bengal"
    assert sourav.tags == ["Cricket", "VIP"]


def test_vcard_40_preferred_email_first_tel_uris_and_non_latin_names():
    anant, bruce = values_of("vcard40.vcf")
    assert anant.fields["display_name"] == "ಅನಂತ್ ನಾಗ್"
    assert anant.fields["given_name"] == "ಅನಂತ್"
    assert anant.emails == ["anant@example.in", "anant.home@example.in", "anant.other@example.in"]
    assert anant.phones == ["+919845077777", "+918023456789"]
    assert anant.fields["company"] == "ಕನ್ನಡ ಚಿತ್ರ"
    assert anant.fields["country"] == "IN"
    assert bruce.fields["display_name"] == "李小龙"
    assert bruce.phones == ["+85291234567"]


def test_malformed_vcards_are_rejected_one_by_one_with_their_reason():
    results = values_of("malformed.vcf")
    _encoding, _headers, records = read("malformed.vcf")
    assert [record.line for record in records] == [1, 6, 9, 14, 18, 23]
    good, never_closed, broken, nameless, bad_email, cut_off = results
    assert good.fields["display_name"] == "Good One"
    assert "END:VCARD" in never_closed.messages[0]
    assert "Line 12" in broken.messages[0]
    assert "name is needed" in nameless.messages[0]
    assert "not-an-email" in bad_email.messages[0]
    assert "END:VCARD" in cut_off.messages[0]


def test_vcard_unfolding_keeps_multibyte_characters_whole():
    lines = ["BEGIN:VCARD\r\n", "VERSION:3.0\r\n", "FN:राजेश कु\r\n", " मार\r\n", "END:VCARD\r\n"]
    [record] = vcard.read_records(lines)
    assert record.cells[VCARD_HEADERS.index("Display name")] == "राजेश कुमार"


# The mapping ---------------------------------------------------------------------------


def test_google_contacts_columns_are_guessed():
    _encoding, headers, _records = read("google.csv")
    assert mapping_of(headers) == {
        "First Name": "given_name",
        "Last Name": "family_name",
        "Labels": "tags",
        "E-mail 1 - Value": "email",
        "E-mail 2 - Value": "email",
        "Phone 1 - Value": "phone",
        "Phone 2 - Value": "phone",
        "Address 1 - Street": "address_line",
        "Address 1 - City": "city",
        "Address 1 - Region": "state",
        "Address 1 - Postal Code": "postcode",
        "Address 1 - Country": "country",
        "Organization Name": "company",
        "Organization Title": "job_title",
    }
    priya, rajesh = values_of("google.csv")
    assert priya.tags == ["Clients"]  # Google's own "* myContacts" group is not a tag
    assert priya.phones == ["+919845012345", "+918023456789"]
    assert rajesh.fields["display_name"] == "राजेश कुमार"


def test_older_google_layout_is_guessed():
    _encoding, headers, _records = read("google_legacy.csv")
    mapping = mapping_of(headers)
    assert mapping["Given Name"] == "given_name"
    assert mapping["Family Name"] == "family_name"
    assert mapping["Organization 1 - Name"] == "company"
    assert mapping["Organization 1 - Title"] == "job_title"
    assert "E-mail 1 - Type" not in mapping


def test_outlook_columns_are_guessed_and_its_title_is_not_the_job():
    _encoding, headers, _records = read("outlook.csv")
    mapping = mapping_of(headers)
    assert "Title" not in mapping  # Mr./Ms.
    assert mapping["Job Title"] == "job_title"
    assert mapping["Company"] == "company"
    assert mapping["E-mail Address"] == mapping["E-mail 2 Address"] == "email"
    assert mapping["Mobile Phone"] == mapping["Business Phone"] == "phone"
    assert mapping["Business City"] == "city" and "Home City" not in mapping
    assert mapping["Business State"] == "state"
    assert mapping["Business Postal Code"] == "postcode"
    for ignored in ("Business Fax", "Assistant's Phone", "E-mail Type", "E-mail Display Name"):
        assert ignored not in mapping
    [suresh] = values_of("outlook.csv")
    assert suresh.emails == ["suresh@iyertextiles.example", "s.iyer@gmail.example"]
    assert suresh.tags == ["VIP", "Textiles"]


def test_hubspot_columns_and_lifecycle_stages_are_guessed():
    _encoding, headers, _records = read("hubspot.csv")
    mapping = mapping_of(headers)
    assert mapping == {
        "First Name": "given_name",
        "Last Name": "family_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "phone",
        "Company Name": "company",
        "Job Title": "job_title",
        "Street Address": "address_line",
        "City": "city",
        "State/Region": "state",
        "Postal Code": "postcode",
        "Country/Region": "country",
        "Lifecycle Stage": "phase",
        "Original Source": "source",
    }
    meera, john = values_of("hubspot.csv")
    assert meera.fields["phase"] == "retention"  # Customer
    assert john.fields["phase"] == "acquisition"  # marketingqualifiedlead
    assert john.fields["country"] == "US"


def test_salesforce_columns_are_guessed():
    _encoding, headers, _records = read("salesforce.csv")
    mapping = mapping_of(headers)
    assert mapping["Title"] == "job_title"
    assert mapping["Account Name"] == "company"
    assert mapping["Phone"] == mapping["Mobile"] == "phone"
    assert mapping["Mailing City"] == "city"
    assert mapping["Mailing State/Province"] == "state"
    assert mapping["Mailing Zip/Postal Code"] == "postcode"
    assert mapping["Lead Source"] == "source"
    [kavya] = values_of("salesforce.csv")
    assert kavya.fields["source"] == "event"  # Trade Show


@pytest.mark.django_db
def test_our_own_export_headers_map_one_to_one_including_custom_fields():
    birthday = CustomField.objects.create(key="birthday", label="Birthday", kind=CustomField.Kind.DATE)
    headers = [*HEADERS, "Custom: birthday"]
    assert guess(headers, [birthday]) == [*(target for _header, target in COLUMNS), "custom:birthday"]


@pytest.mark.django_db
def test_custom_fields_are_guessed_by_label_and_checked_by_kind():
    size = CustomField.objects.create(key="shop-size", label="Shop size", kind=CustomField.Kind.NUMBER)
    assert mapping_of(["Name", "Shop Size"], [size]) == {"Name": "display_name", "Shop Size": "custom:shop-size"}
    fields = ["display_name", "custom:shop-size"]
    assert row_values(["Asha", "1,250"], fields, {"shop-size": size}).custom == {"shop-size": 1250}
    with pytest.raises(ValidationError, match="not a number"):
        row_values(["Asha", "big"], fields, {"shop-size": size})


def test_a_single_valued_field_goes_to_the_first_column_only():
    assert guess(["City", "Home City", "Email", "Work Email"], []) == ["city", IGNORE, "email", "email"]


def test_a_mapping_needs_a_name_and_single_fields_once():
    with pytest.raises(ValidationError, match="at least one column"):
        check_mapping(["email", "city"], [])
    with pytest.raises(ValidationError, match="more than one column"):
        check_mapping(["display_name", "city", "city"], [])
    with pytest.raises(ValidationError, match="from the list"):
        check_mapping(["display_name", "password"], [])
    check_mapping(["given_name", "email", "email", "phone", "phone", "tags", "ignore"], [])


# Row validation ------------------------------------------------------------------------


def test_row_problems_are_all_listed():
    fields = ["given_name", "email", "phone", "phase", "country", "postcode"]
    with pytest.raises(ValidationError) as error:
        row_values(["Asha", "asha@", "12", "someday", "Atlantis", "1234567890123"], fields, {})
    text = " ".join(error.value.messages)
    for part in ("asha@", "“12”", "someday", "Atlantis", "12 characters"):
        assert part in text


def test_a_name_is_required():
    with pytest.raises(ValidationError, match="name is needed"):
        row_values(["", "asha@example.com"], ["given_name", "email"], {})


def test_field_lengths_are_checked():
    with pytest.raises(ValidationError, match="150 characters"):
        row_values(["x" * 151], ["given_name"], {})


def test_several_values_in_one_cell_are_split():
    values = row_values(
        ["Asha", "a@example.com; b@example.com ::: c@example.com", "+91 98450 12345, 080 2345 6789", "x, y;z"],
        ["given_name", "email", "phone", "tags"],
        {},
    )
    assert values.emails == ["a@example.com", "b@example.com", "c@example.com"]
    assert values.phones == ["+919845012345", "+918023456789"]
    assert values.tags == ["x", "y", "z"]


def test_a_quoted_tag_name_keeps_its_comma():
    values = row_values(["Asha", 'vip, "north, east", x'], ["given_name", "tags"], {})
    assert values.tags == ["vip", "north, east", "x"]


def test_neutralised_cells_of_our_export_are_read_back():
    values = row_values(["'=Asha", "'+91 98450 12345", "'@home"], ["display_name", "phone", "city"], {})
    assert values.fields["display_name"] == "=Asha"
    assert values.phones == ["+919845012345"]
    assert values.fields["city"] == "@home"


def test_country_names_in_english_and_hindi_become_iso_codes():
    for text, code in (("India", "IN"), ("भारत", "IN"), ("in", "IN"), ("United Kingdom", "GB"), ("USA", "US")):
        assert row_values(["Asha", text], ["given_name", "country"], {}).fields["country"] == code


def test_the_region_codes_read_without_the_country_names_are_read_the_same_with_them():
    from contacts.importers.mapping import _countries, region_codes

    table = _countries()
    assert region_codes()
    assert all(table[code.lower()] == code for code in region_codes())
    for text in ("IN", "in", "In", "US", "gb"):
        assert row_values(["Asha", text], ["given_name", "country"], {}).fields["country"] == table[text.lower()]
