"""The pools the generator draws people, places and companies from: Indian regions (with names in
Devanagari, Bengali and Kannada script beside their Latin spelling) and a few other countries.

Every pool string is plain text without tab, newline or backslash, so it goes into a COPY line as it is
(checked once by `check_pools`)."""

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """Where a person lives and what their name is likely to be.

    `given`/`family` are (Latin, native script) pairs; `native_share` of the people of the region
    have their name stored in the native script. `cities` are (city, state, PIN/postcode prefix)."""

    key: str
    country: str
    phone_region: str
    language: str
    given: tuple[tuple[str, str], ...]
    family: tuple[tuple[str, str], ...]
    cities: tuple[tuple[str, str, str], ...]
    native_share: float = 0.0
    postcode_digits: int = 6


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """ "Rahul:राहुल Amit:अमित" -> (("Rahul", "राहुल"), ("Amit", "अमित")); a name without ":" has no native spelling."""
    pairs = []
    for item in text.split():
        latin, _sep, native = item.partition(":")
        pairs.append((latin.replace("_", " "), native.replace("_", " ") or latin.replace("_", " ")))
    return tuple(pairs)


REGIONS = (
    Region(
        key="north",
        country="IN",
        phone_region="IN",
        language="hi",
        native_share=0.35,
        given=_pairs(
            "Rahul:राहुल Amit:अमित Priya:प्रिया Neha:नेहा Rohit:रोहित Pooja:पूजा Vikas:विकास Anjali:अंजलि "
            "Sanjay:संजय Sunita:सुनीता Ankit:अंकित Ritu:रितु Manoj:मनोज Kavita:कविता Deepak:दीपक "
            "Shweta:श्वेता Arun:अरुण Nisha:निशा Rajesh:राजेश Meena:मीना Alok:आलोक Swati:स्वाति "
            "Gaurav:गौरव Shalini:शालिनी"
        ),
        family=_pairs(
            "Sharma:शर्मा Verma:वर्मा Gupta:गुप्ता Singh:सिंह Yadav:यादव Mishra:मिश्रा Tiwari:तिवारी "
            "Chauhan:चौहान Agarwal:अग्रवाल Saxena:सक्सेना Pandey:पांडे Srivastava:श्रीवास्तव Jain:जैन "
            "Bansal:बंसल Kapoor:कपूर Malhotra:मल्होत्रा Dubey:दुबे Rastogi:रस्तोगी"
        ),
        cities=(
            ("Delhi", "Delhi", "110"),
            ("New Delhi", "Delhi", "110"),
            ("Lucknow", "Uttar Pradesh", "226"),
            ("Kanpur", "Uttar Pradesh", "208"),
            ("Noida", "Uttar Pradesh", "201"),
            ("Varanasi", "Uttar Pradesh", "221"),
            ("Jaipur", "Rajasthan", "302"),
            ("Gurugram", "Haryana", "122"),
            ("Chandigarh", "Chandigarh", "160"),
            ("Bhopal", "Madhya Pradesh", "462"),
            ("Indore", "Madhya Pradesh", "452"),
            ("Patna", "Bihar", "800"),
        ),
    ),
    Region(
        key="west",
        country="IN",
        phone_region="IN",
        language="en",
        native_share=0.2,
        given=_pairs(
            "Sneha:स्नेहा Rohan:रोहन Aditya:आदित्य Prachi:प्राची Sagar:सागर Tejas:तेजस Nikhil:निखिल "
            "Aarti:आरती Siddharth:सिद्धार्थ Gauri:गौरी Rutuja:ऋतुजा Mihir:मिहिर Hetal:हेतल "
            "Jignesh:जिग्नेश Komal:कोमल Parth:पार्थ Omkar:ओंकार Sayali:सायली"
        ),
        family=_pairs(
            "Patil:पाटील Kulkarni:कुलकर्णी Deshpande:देशपांडे Joshi:जोशी Shah:शाह Patel:पटेल "
            "Mehta:मेहता Desai:देसाई Jadhav:जाधव Pawar:पवार Gokhale:गोखले Bhatt:भट्ट Parekh:पारेख "
            "Kale:काळे Shinde:शिंदे"
        ),
        cities=(
            ("Mumbai", "Maharashtra", "400"),
            ("Thane", "Maharashtra", "400"),
            ("Pune", "Maharashtra", "411"),
            ("Nagpur", "Maharashtra", "440"),
            ("Nashik", "Maharashtra", "422"),
            ("Ahmedabad", "Gujarat", "380"),
            ("Surat", "Gujarat", "395"),
            ("Vadodara", "Gujarat", "390"),
            ("Panaji", "Goa", "403"),
        ),
    ),
    Region(
        key="karnataka",
        country="IN",
        phone_region="IN",
        language="kn",
        native_share=0.3,
        given=_pairs(
            "Manjunath:ಮಂಜುನಾಥ್ Shwetha:ಶ್ವೇತಾ Ramesh:ರಮೇಶ್ Kavya:ಕಾವ್ಯ Girish:ಗಿರೀಶ್ Divya:ದಿವ್ಯಾ "
            "Prakash:ಪ್ರಕಾಶ್ Sahana:ಸಹನಾ Naveen:ನವೀನ್ Pavithra:ಪವಿತ್ರಾ Harish:ಹರೀಶ್ Sindhu:ಸಿಂಧು "
            "Raghavendra:ರಾಘವೇಂದ್ರ Bhavya:ಭವ್ಯ Suresh:ಸುರೇಶ್ Anitha:ಅನಿತಾ Chetan:ಚೇತನ್ Spoorthi:ಸ್ಫೂರ್ತಿ"
        ),
        family=_pairs(
            "Gowda:ಗೌಡ Rao:ರಾವ್ Hegde:ಹೆಗ್ಡೆ Shetty:ಶೆಟ್ಟಿ Bhat:ಭಟ್ Kamath:ಕಾಮತ್ Naik:ನಾಯಕ್ "
            "Patil:ಪಾಟೀಲ್ Reddy:ರೆಡ್ಡಿ Murthy:ಮೂರ್ತಿ Shenoy:ಶೆಣೈ Kulkarni:ಕುಲಕರ್ಣಿ Prabhu:ಪ್ರಭು"
        ),
        cities=(
            ("Bengaluru", "Karnataka", "560"),
            ("Mysuru", "Karnataka", "570"),
            ("Mangaluru", "Karnataka", "575"),
            ("Hubballi", "Karnataka", "580"),
            ("Belagavi", "Karnataka", "590"),
            ("Davanagere", "Karnataka", "577"),
            ("Udupi", "Karnataka", "576"),
            ("Shivamogga", "Karnataka", "577"),
        ),
    ),
    Region(
        key="south",
        country="IN",
        phone_region="IN",
        language="en",
        given=_pairs(
            "Karthik Lakshmi Vijay Divya Arjun Meera Srinivas Priyanka Venkatesh Deepa Ajith Revathi "
            "Anand Swathi Sreenath Keerthana Hari Nandini"
        ),
        family=_pairs(
            "Iyer Nair Menon Pillai Reddy Naidu Krishnan Subramanian Rajan Varghese Chandran Raju Iyengar Kurian"
        ),
        cities=(
            ("Chennai", "Tamil Nadu", "600"),
            ("Coimbatore", "Tamil Nadu", "641"),
            ("Madurai", "Tamil Nadu", "625"),
            ("Hyderabad", "Telangana", "500"),
            ("Warangal", "Telangana", "506"),
            ("Visakhapatnam", "Andhra Pradesh", "530"),
            ("Vijayawada", "Andhra Pradesh", "520"),
            ("Kochi", "Kerala", "682"),
            ("Thiruvananthapuram", "Kerala", "695"),
        ),
    ),
    Region(
        key="east",
        country="IN",
        phone_region="IN",
        language="bn",
        native_share=0.35,
        given=_pairs(
            "Sourav:সৌরভ Ananya:অনন্যা Debashis:দেবাশিস Rumpa:রুম্পা Arindam:অরিন্দম Moumita:মৌমিতা "
            "Subhajit:শুভজিৎ Payel:পায়েল Abhijit:অভিজিৎ Tanushree:তনুশ্রী Sayan:সায়ন Riya:রিয়া "
            "Partha:পার্থ Sudipta:সুদীপ্ত Anirban:অনির্বাণ Sharmila:শর্মিলা"
        ),
        family=_pairs(
            "Ganguly:গাঙ্গুলী Banerjee:ব্যানার্জী Chatterjee:চ্যাটার্জী Mukherjee:মুখার্জী Bose:বসু "
            "Sen:সেন Das:দাস Ghosh:ঘোষ Dutta:দত্ত Roy:রায় Chakraborty:চক্রবর্তী Sarkar:সরকার "
            "Mondal:মণ্ডল Basu:বসু Majumdar:মজুমদার"
        ),
        cities=(
            ("Kolkata", "West Bengal", "700"),
            ("Howrah", "West Bengal", "711"),
            ("Durgapur", "West Bengal", "713"),
            ("Siliguri", "West Bengal", "734"),
            ("Asansol", "West Bengal", "713"),
            ("Bhubaneswar", "Odisha", "751"),
            ("Guwahati", "Assam", "781"),
        ),
    ),
    Region(
        key="pan_india",
        country="IN",
        phone_region="IN",
        language="en",
        given=_pairs(
            "Imran Aisha Farhan Zoya Sameer Nazia Gurpreet Harpreet Jaspreet Manpreet Joseph Mary Thomas "
            "Ayesha Salman Rukhsar Navjot Simran Francis Anita"
        ),
        family=_pairs(
            "Khan Qureshi Siddiqui Ansari Shaikh Singh Gill Dhillon Sandhu D'Souza Fernandes Thomas Mathew Kaur"
        ),
        cities=(
            ("Mumbai", "Maharashtra", "400"),
            ("Delhi", "Delhi", "110"),
            ("Bengaluru", "Karnataka", "560"),
            ("Hyderabad", "Telangana", "500"),
            ("Amritsar", "Punjab", "143"),
            ("Ludhiana", "Punjab", "141"),
            ("Lucknow", "Uttar Pradesh", "226"),
            ("Kochi", "Kerala", "682"),
        ),
    ),
    Region(
        key="us",
        country="US",
        phone_region="US",
        language="en",
        postcode_digits=5,
        given=_pairs("John Emily Michael Sarah David Jessica Chris Ashley Daniel Megan Priya Raj"),
        family=_pairs("Smith Johnson Williams Brown Jones Miller Davis Anderson Patel Shah"),
        cities=(
            ("New York", "NY", "100"),
            ("San Francisco", "CA", "941"),
            ("San Jose", "CA", "951"),
            ("Chicago", "IL", "606"),
            ("Austin", "TX", "787"),
            ("Edison", "NJ", "088"),
        ),
    ),
    Region(
        key="gb",
        country="GB",
        phone_region="GB",
        language="en",
        postcode_digits=0,
        given=_pairs("Oliver Amelia Harry Isla George Emily Jack Sophie Arjun Anika"),
        family=_pairs("Taylor Evans Thomas Roberts Walker Wright Hughes Green Patel Gill"),
        cities=(("London", "England", "EC1A"), ("Manchester", "England", "M1"), ("Leicester", "England", "LE1")),
    ),
    Region(
        key="ae",
        country="AE",
        phone_region="AE",
        language="en",
        postcode_digits=0,
        given=_pairs("Ahmed Fatima Mohammed Aisha Omar Mariam Yousef Noura Rahul Sanjay"),
        family=_pairs("Al-Sayed Al-Mansoori Hassan Al-Hashimi Khalifa Al-Nuaimi Menon Nair"),
        cities=(("Dubai", "Dubai", ""), ("Abu Dhabi", "Abu Dhabi", ""), ("Sharjah", "Sharjah", "")),
    ),
    Region(
        key="sg",
        country="SG",
        phone_region="SG",
        language="en",
        given=_pairs("Wei Hui_Min Jun_Jie Mei_Ling Kumar Lakshmi Daniel Rachel"),
        family=_pairs("Tan Lim Lee Ng Wong Goh Pillai Raj"),
        cities=(("Singapore", "", "0"),),
    ),
    Region(
        key="de",
        country="DE",
        phone_region="DE",
        language="en",
        postcode_digits=5,
        given=_pairs("Lukas Anna Felix Lena Jonas Sophie Maximilian Hannah"),
        family=_pairs("Müller Schmidt Schneider Fischer Weber Wagner Becker Hoffmann"),
        cities=(("Berlin", "Berlin", "10"), ("München", "Bayern", "80"), ("Hamburg", "Hamburg", "20")),
    ),
    Region(
        key="jp",
        country="JP",
        phone_region="JP",
        language="en",
        postcode_digits=7,
        given=_pairs("Kenji Yuki Haruto Aiko Sota Yui Takumi Sakura"),
        family=_pairs("Tanaka Suzuki Sato Takahashi Watanabe Ito Yamamoto"),
        cities=(("Tokyo", "Tokyo", "1"), ("Osaka", "Osaka", "5")),
    ),
    Region(
        key="au",
        country="AU",
        phone_region="AU",
        language="en",
        postcode_digits=4,
        given=_pairs("Jack Charlotte William Mia Lachlan Chloe Aarav Diya"),
        family=_pairs("Smith Jones Williams Brown Wilson Taylor Sharma Singh"),
        cities=(("Sydney", "NSW", "2"), ("Melbourne", "VIC", "3"), ("Brisbane", "QLD", "4")),
    ),
)
# How many people come from each region, in the order of REGIONS.
REGION_WEIGHTS = (28, 20, 16, 14, 10, 6, 1.6, 1.2, 1.4, 0.5, 0.5, 0.4, 0.4)

# Email domains of people (weight); a B2B contact often uses the company's domain instead.
PERSONAL_DOMAINS_IN = (
    ("gmail.com", 52),
    ("yahoo.co.in", 9),
    ("yahoo.com", 5),
    ("outlook.com", 7),
    ("hotmail.com", 5),
    ("rediffmail.com", 4),
    ("icloud.com", 3),
    ("protonmail.com", 1),
)
PERSONAL_DOMAINS_ABROAD = {
    "US": (("gmail.com", 50), ("outlook.com", 15), ("yahoo.com", 15), ("icloud.com", 15), ("aol.com", 5)),
    "GB": (("gmail.com", 45), ("outlook.com", 20), ("btinternet.com", 15), ("icloud.com", 10), ("yahoo.co.uk", 10)),
    "AE": (("gmail.com", 60), ("outlook.com", 20), ("yahoo.com", 10), ("icloud.com", 10)),
    "SG": (("gmail.com", 60), ("outlook.com", 15), ("yahoo.com.sg", 15), ("icloud.com", 10)),
    "DE": (("gmail.com", 35), ("web.de", 25), ("gmx.de", 25), ("t-online.de", 15)),
    "JP": (("gmail.com", 40), ("yahoo.co.jp", 30), ("icloud.com", 20), ("outlook.jp", 10)),
    "AU": (("gmail.com", 45), ("outlook.com", 20), ("bigpond.com", 20), ("icloud.com", 15)),
}
# Near-duplicate emails: the same person typed their address again, slightly differently.
# These domains appear in no list above, so a misspelt address never equals a real one.
MISSPELT_DOMAINS = {
    "gmail.com": "gmial.com",
    "yahoo.co.in": "yaho.co.in",
    "yahoo.com": "yahooo.com",
    "outlook.com": "outlok.com",
    "hotmail.com": "hotmal.com",
    "rediffmail.com": "rediffmial.com",
}
PLUS_TAGS = ("shop", "offers", "crm", "news", "diwali")

# State codes of GSTINs (the first two digits), by state name as in the regions above.
GST_STATE_CODES = {
    "Delhi": "07",
    "Uttar Pradesh": "09",
    "Rajasthan": "08",
    "Haryana": "06",
    "Chandigarh": "04",
    "Madhya Pradesh": "23",
    "Bihar": "10",
    "Maharashtra": "27",
    "Gujarat": "24",
    "Goa": "30",
    "Karnataka": "29",
    "Tamil Nadu": "33",
    "Telangana": "36",
    "Andhra Pradesh": "37",
    "Kerala": "32",
    "West Bengal": "19",
    "Odisha": "21",
    "Assam": "18",
    "Punjab": "03",
}

STREETS = (
    "MG Road",
    "Station Road",
    "Nehru Nagar",
    "Gandhi Marg",
    "Park Street",
    "Residency Road",
    "Ring Road",
    "Main Road",
    "Civil Lines",
    "Sector 18",
    "Jayanagar 4th Block",
    "Koramangala 5th Block",
    "Salt Lake Sector V",
    "Bandra West",
    "Anna Salai",
    "Banjara Hills",
)
STREETS_ABROAD = ("High Street", "Main Street", "Market Street", "Park Avenue", "Station Road", "King Street")

COMPANY_WORDS = (
    "Shree Ganesh",
    "Sri Lakshmi",
    "Bluepeak",
    "Sunrise",
    "Navodaya",
    "Kaveri",
    "Everest",
    "Lotus",
    "Sahyadri",
    "Ganga",
    "Silverline",
    "Nova",
    "Apex",
    "Trident",
    "Vasundhara",
    "Orchid",
    "Saffron",
    "Pioneer",
    "Mahalaxmi",
    "Indus",
)
COMPANY_TRADES = (
    "Textiles",
    "Traders",
    "Enterprises",
    "Logistics",
    "Pharma",
    "Electronics",
    "Foods",
    "Jewellers",
    "Motors",
    "Builders",
    "Tech Solutions",
    "Agro Industries",
    "Handicrafts",
    "Steel",
    "Furnishings",
    "Healthcare",
)
COMPANY_SUFFIXES_IN = ("Pvt Ltd", "Private Limited", "LLP", "& Co.", "", "", "Ltd")
COMPANY_SUFFIXES_ABROAD = {
    "US": ("Inc.", "LLC", "Corp."),
    "GB": ("Ltd", "plc", "LLP"),
    "AE": ("LLC", "FZE", "Trading LLC"),
    "SG": ("Pte Ltd",),
    "DE": ("GmbH", "AG", "KG"),
    "JP": ("K.K.", "Co., Ltd."),
    "AU": ("Pty Ltd",),
}
# Shop names in the script of the region (a share of the companies of those regions).
NATIVE_TRADES = {"north": "ट्रेडर्स", "west": "एंटरप्रायझेस", "karnataka": "ಟ್ರೇಡರ್ಸ್", "east": "এন্টারপ্রাইজ"}
INDUSTRIES = (
    "Retail",
    "Textiles and apparel",
    "Pharmaceuticals",
    "Information technology",
    "Manufacturing",
    "Food and beverages",
    "Jewellery",
    "Automotive",
    "Construction",
    "Logistics",
    "Healthcare",
    "Education",
    "Agriculture",
    "Hospitality",
    "Financial services",
)
TAGS = (
    ("VIP", 6),
    ("Wholesale", 8),
    ("Diwali 2025", 10),
    ("Diwali 2026", 12),
    ("Trade fair", 5),
    ("Newsletter", 20),
    ("Credit hold", 2),
    ("Distributor", 4),
    ("Key account", 3),
    ("Price sensitive", 6),
    ("Festive buyer", 7),
    ("Bulk order", 4),
    ("Referral partner", 2),
    ("Online", 9),
    ("Walk-in", 6),
    ("Corporate gifting", 3),
    ("Do not call", 1),
    ("Export", 2),
)
JOB_TITLES = (
    "Owner",
    "Proprietor",
    "Director",
    "Purchase Manager",
    "Procurement Head",
    "Accounts Manager",
    "Operations Manager",
    "Store Manager",
    "CEO",
    "CFO",
    "Marketing Manager",
    "Partner",
    "Sales Executive",
    "Office Administrator",
)
CUSTOM_FIELDS = (
    # key, label, kind, choices
    ("visit_day", "Preferred visit day", "choice", ("Monday", "Wednesday", "Friday", "Saturday")),
    ("annual_budget", "Annual budget (₹)", "number", ()),
    ("loyalty_card", "Loyalty card number", "text", ()),
)

# Timeline: (kind, direction, summaries, weight)
INTERACTIONS = (
    (
        "call",
        "out",
        ("Follow-up call", "Discussed the quotation", "Checked on the delivery", "Called about renewal"),
        24,
    ),
    ("call", "in", ("Asked about prices", "Called about an invoice", "Wanted a callback"), 12),
    ("email", "out", ("Sent the catalogue", "Sent the revised quote", "Shared the price list"), 14),
    ("email", "in", ("Replied to the quote", "Asked for the GST invoice"), 6),
    ("whatsapp", "in", ("Asked for the Diwali offer", "Shared a photo of the order", "Asked for the location"), 12),
    ("whatsapp", "out", ("Sent the festive offer", "Sent the payment link"), 8),
    ("meeting", "", ("Product demo at their office", "Quarterly review", "Met at the trade fair"), 6),
    ("visit", "", ("Visited the store", "Site visit", "Dropped off samples"), 5),
    ("note", "", ("Prefers calls after 4 pm", "Decision maker is the owner's son", "Closed on Tuesdays"), 6),
    ("sms", "out", ("Payment reminder sent", "Delivery update sent"), 5),
    ("social", "in", ("Commented on our Instagram post", "Sent a message on Facebook"), 2),
)
OUTCOMES = ("Interested", "Will call back", "Asked for a discount", "Order expected next week", "Not interested now")
TASK_TITLES = (
    "Call back about the quote",
    "Send the new price list",
    "Visit for the annual review",
    "Collect GST details",
    "Follow up on the payment",
    "Share the festive catalogue",
    "Confirm the delivery date",
)
CONSENT_METHODS = ("Web form", "Signed paper form at the store", "Phone call", "WhatsApp opt-in message")
CONSENT_WORDING = {
    "email": "I agree to receive offers and updates by email. I can unsubscribe at any time.",
    "sms": "I agree to receive order updates and offers by SMS.",
    "whatsapp": "I agree to be contacted on WhatsApp about my orders and offers.",
    "phone": "I agree to receive calls about my account.",
}
WITHDRAW_METHODS = ("Unsubscribe link", "Asked on a call", "Replied STOP")


def ascii_slug(text: str) -> str:
    """The letters of a Latin name as an email address has them: "D'Souza" -> "dsouza", "Müller" -> "mueller"."""
    text = text.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    return "".join(char for char in text if "a" <= char <= "z")


def all_pool_strings():
    for region in REGIONS:
        for pair in (*region.given, *region.family):
            yield from pair
        for city, state, prefix in region.cities:
            yield from (city, state, prefix)
    yield from STREETS
    yield from STREETS_ABROAD
    yield from COMPANY_WORDS
    yield from COMPANY_TRADES
    yield from NATIVE_TRADES.values()
    yield from INDUSTRIES
    yield from (name for name, _weight in TAGS)
    yield from JOB_TITLES
    for _kind, _direction, summaries, _weight in INTERACTIONS:
        yield from summaries
    yield from OUTCOMES
    yield from TASK_TITLES
    yield from CONSENT_METHODS
    yield from CONSENT_WORDING.values()
    yield from WITHDRAW_METHODS


def check_pools() -> None:
    """Every pool string is NFC text that needs no escaping in COPY's text format."""
    for text in all_pool_strings():
        if any(char in text for char in "\t\n\r\\") or unicodedata.normalize("NFC", text) != text:
            raise ValueError(f"pool string needs escaping or is not NFC: {text!r}")
    for region in REGIONS:
        for latin, _native in (*region.given, *region.family):
            if not ascii_slug(latin):
                raise ValueError(f"no email letters in {latin!r}")
