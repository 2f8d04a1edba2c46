#!/usr/bin/env python3
"""Generates the customer-360 demo sources and the tables the job must produce from them.

Four systems hold customers, each in its own shape and mess:

  crm_contacts.csv       CRM contacts export: mixed-case padded emails, phones in several
                         formats, signup dates in three formats, countries as names or codes,
                         contacts exported twice (the later update wins), a few broken lines.
  billing_accounts.jsonl billing accounts: amounts as strings with currency symbols, yes/no
                         words, duplicate account versions, a few broken lines.
  support_tickets.jsonl  support tickets with a nested requester, a few broken lines.
  shop.sql               the web shop's users, as a SQL script the job loads into DuckDB; about
                         30% of them are also CRM contacts (the same person in two systems).

Because the generator makes every clean value first and only then renders it messily, it also
knows exactly what the job must produce: expected/<model>.csv (the warehouse tables, ordered by
key), expected/dead_letters.csv (source, position, stage, reason of every bad record) and
expected/customer_crosswalk.csv (the golden customer id of every customer, account and ticket:
records sharing an email or a phone are one person), expected/account_golden.csv (the golden
customer owning each account) and expected/customer_golden_count.csv (how many people there are;
about 30% of account owners and 40% of ticket requesters are CRM contacts). The
end-to-end tests compare the job's output with these files row by row.

Usage: python3 generate.py [--seed 7] [--scale 1.0] [--out DIR] [--force]
By default it writes into target/customer360-data-<scale>x under the current folder; it never
replaces generated data (such as the committed copy beside it) without --force.
"""

import argparse
import sys
import csv
import datetime as dt
import json
import os
import random

FIRST = ["anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ida", "jonas",
         "karla", "leon", "mia", "noah", "olivia", "paul", "queenie", "rosa", "sam", "tara",
         "ulrich", "vera", "william", "xenia", "yusuf", "zoe", "maria", "lucas", "sofia", "liam"]
LAST = ["schmidt", "miller", "dubois", "jansen", "smith", "weber", "martin", "brown", "bakker",
        "fischer", "wagner", "taylor", "moreau", "visser", "becker", "wilson", "laurent", "hoffmann",
        "evans", "bernard", "schulz", "clark", "petit", "dekker", "koch", "walker", "richter", "wright"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "example.de", "example.co.uk"]

# Each country: spellings found in the sources, and a phone maker returning
# (E.164, [renderings]); national renderings only where the spec's default region (DE) applies.
COUNTRY_NAMES = {
    "DE": ["Germany", "DE", "DEU", "deutschland", " germany ", "de"],
    "US": ["United States", "USA", "US", "us", "United States of America"],
    "GB": ["United Kingdom", "UK", "GB", "GBR", "Great Britain"],
    "FR": ["France", "FR", "FRA", "france"],
    "NL": ["Netherlands", "NL", "NLD", "Holland"],
}


def phone(rng, country):
    if country == "DE":
        sub = "%07d" % rng.randint(2000000, 9999999)
        e164 = "+4930" + sub
        return e164, ["+49 30 " + sub, "030 " + sub, "(030) " + sub, "0049 30 " + sub, "030-" + sub[:3] + "-" + sub[3:]]
    if country == "US":
        area = rng.choice(["415", "212", "312", "617"])
        exch = rng.randint(201, 989)
        while exch % 100 == 11 or exch == 555:
            exch = rng.randint(201, 989)
        line = "%04d" % rng.randint(0, 9999)
        e164 = "+1%s%d%s" % (area, exch, line)
        return e164, ["+1 (%s) %d-%s" % (area, exch, line), "+1 %s %d %s" % (area, exch, line), "001 %s %d %s" % (area, exch, line)]
    if country == "GB":
        sub = "%07d" % rng.randint(0, 9999999)
        e164 = "+44207" + sub
        return e164, ["+44 20 7" + sub[:3] + " " + sub[3:], "+44 (0)20 7" + sub, "0044 20 7" + sub]
    if country == "FR":
        sub = "%08d" % rng.randint(0, 99999999)
        e164 = "+331" + sub
        return e164, ["+33 1 " + " ".join(sub[i:i + 2] for i in range(0, 8, 2)), "0033 1" + sub]
    sub = "%07d" % rng.randint(2000000, 9999999)
    e164 = "+3120" + sub
    return e164, ["+31 20 " + sub[:3] + " " + sub[3:], "0031 20 " + sub]


def messy_case(rng, text):
    style = rng.randrange(4)
    if style == 0:
        return text
    if style == 1:
        return text.upper()
    if style == 2:
        return text.title()
    return "".join(c.upper() if rng.random() < 0.3 else c for c in text)


def pad(rng, text):
    return rng.choice(["", " ", "  ", "\t"]) + text + rng.choice(["", " ", "  "])


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def render_date(rng, d):
    style = rng.randrange(3)
    if style == 0:
        return d.strftime("%Y-%m-%d")
    if style == 1:
        return d.strftime("%d/%m/%Y")
    return "%s %d, %d" % (MONTHS[d.month - 1], d.day, d.year)


def render_bool(rng, value):
    return rng.choice(["yes", "Y", "true", "1", "TRUE"] if value else ["no", "N", "false", "0", "FALSE"])


def render_amount(rng, cents):
    value = cents / 100
    style = rng.randrange(6)
    if style == 0:
        return "$%s" % format(abs(value), ",.2f") if cents >= 0 else "($%s)" % format(abs(value), ",.2f")
    if style == 1:
        return "%.2f" % value
    if style == 2:
        return "USD %.2f" % value
    if style == 3:
        return "%s USD" % format(value, ",.2f")
    if style == 4:
        return value  # a JSON number
    return ("%.2f" % value).rstrip("0").rstrip(".") if cents % 100 else "%d" % (cents // 100)


def ts(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Person:
    def __init__(self, rng, n):
        self.first = rng.choice(FIRST)
        self.last = rng.choice(LAST)
        self.email = "%s.%s%d@%s" % (self.first, self.last, n, rng.choice(DOMAINS))
        self.country = rng.choice(list(COUNTRY_NAMES))
        self.phone, self.phones = phone(rng, self.country)


def generate(seed, scale, out):
    rng = random.Random(seed)
    base = dt.datetime(2024, 1, 1)
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    customers, accounts, tickets, dead = {}, {}, {}, []

    # --- CRM contacts (CSV) --------------------------------------------------------------
    n_contacts = int(5000 * scale)
    crm_rows = []
    crm_people = []
    for i in range(n_contacts):
        p = Person(rng, i)
        crm_people.append(p)
        cid = "C%06d" % (i + 1)
        signup = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(1800))
        active = rng.random() < 0.8
        versions = 2 if rng.random() < 0.12 else 1
        times = sorted(rng.sample(range(1, 300 * 24 * 60), versions))
        for v, minute in enumerate(times):
            updated = base + dt.timedelta(minutes=minute)
            email = p.email if v == 0 else "%s.%s.new%d@%s" % (p.first, p.last, i, rng.choice(DOMAINS))
            crm_rows.append(dict(cid=cid, first=p.first, last=p.last, email=email, phone=rng.choice(p.phones),
                                 e164=p.phone, country=p.country, signup=signup, active=active, updated=updated))
    rng.shuffle(crm_rows)
    header = ["contact_id", "first_name", "last_name", "email_address", "phone", "country", "created", "updated_at", "is_active"]
    lines = [",".join(header)]
    broken_kinds = ["malformed CSV quoting", "wrong column count", "unparsable date", "missing key", "invalid email", "unknown country"]
    next_broken = 900000
    for r in crm_rows:
        if rng.random() < 0.006:
            kind = rng.choice(broken_kinds)
            next_broken += 1
            bad_id = "C%06d" % next_broken
            fields = [bad_id, r["first"], r["last"], r["email"], r["phone"], r["country"], r["signup"].isoformat(), iso(r["updated"]), "yes"]
            if kind == "malformed CSV quoting":
                line = ",".join(fields[:2]) + ',"' + fields[2] + "," + ",".join(fields[3:])
            elif kind == "wrong column count":
                line = ",".join(fields + ["extra"])
            elif kind == "unparsable date":
                fields[6] = rng.choice(["31/02/2023", "2023-13-45", "someday"])
                line = ",".join(fields)
            elif kind == "missing key":
                fields[0] = ""
                line = ",".join(fields)
            elif kind == "invalid email":
                fields[3] = r["first"] + " at " + r["last"]
                line = ",".join(fields)
            else:
                fields[5] = "Atlantis"
                line = ",".join(fields)
            lines.append(line)
            dead.append(("crm", "crm_contacts.csv:%d" % len(lines), "extract" if kind in ("malformed CSV quoting", "wrong column count") else "conform", kind))
        name_first = messy_case(rng, r["first"])
        fields = [r["cid"], name_first, messy_case(rng, r["last"]), pad(rng, messy_case(rng, r["email"])), r["phone"],
                  rng.choice(COUNTRY_NAMES[r["country"]]), render_date(rng, r["signup"]), iso(r["updated"]), render_bool(rng, r["active"])]
        lines.append(",".join('"%s"' % f if ("," in f or rng.random() < 0.05) else f for f in fields))
        key = "crm-" + r["cid"]
        best = customers.get(key)
        if best is None or r["updated"] > best["updated"]:
            customers[key] = dict(customer_id=key, source_system="crm", first_name=r["first"].title(), last_name=r["last"].title(),
                                  email=r["email"], phone=r["e164"], country=r["country"], signup_date=r["signup"].isoformat(),
                                  is_active="true" if r["active"] else "false", updated=r["updated"], _source="crm")
    with open(os.path.join(out, "crm_contacts.csv"), "w", newline="") as f:
        f.write("\n".join(lines) + "\n")

    # --- web shop users (SQL script for DuckDB) -----------------------------------------------
    n_users = int(2500 * scale)
    values = []
    for i in range(n_users):
        # About 30% of the shop's users are also CRM contacts: the same person in two systems.
        p = rng.choice(crm_people) if rng.random() < 0.3 else Person(rng, 100000 + i)
        uid = 1 + i
        signup = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(1500))
        updated = base + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        email = p.email
        bad = rng.random() < 0.004
        if bad:
            email = p.first + "@"
            dead.append(("shop", "app_users user_id=%d" % uid, "conform", "invalid email"))
        values.append("(%d, '%s', '%s', '%s', '%s', '%s', DATE '%s', TIMESTAMP '%s')" % (
            uid, email.upper() if rng.random() < 0.2 else email, p.first.title(), p.last.title(), p.country.lower(), p.phone,
            signup.isoformat(), ts(updated)))
        if not bad:
            key = "shop-%d" % uid
            customers[key] = dict(customer_id=key, source_system="shop", first_name=p.first.title(), last_name=p.last.title(),
                                  email=p.email, phone=p.phone, country=p.country, signup_date=signup.isoformat(),
                                  is_active="true", updated=updated, _source="shop")
    with open(os.path.join(out, "shop.sql"), "w") as f:
        f.write("-- The web shop's users, loaded into an in-memory DuckDB database at run time.\n")
        f.write("CREATE TABLE app_users (user_id INTEGER PRIMARY KEY, email VARCHAR, first_name VARCHAR, last_name VARCHAR,\n"
                "  country_code VARCHAR, phone VARCHAR, signed_up DATE, updated_at TIMESTAMP);\n")
        for start in range(0, len(values), 500):
            f.write("INSERT INTO app_users VALUES\n" + ",\n".join(values[start:start + 500]) + ";\n")

    # --- billing accounts (JSON lines) --------------------------------------------------------
    n_accounts = int(4000 * scale)
    bill_lines = []
    for i in range(n_accounts):
        # About 30% of account owners are customers of the CRM or the shop.
        p = rng.choice(crm_people) if rng.random() < 0.3 else Person(rng, 200000 + i)
        acc = "A-%06d" % (i + 1)
        opened = base - dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        versions = 2 if rng.random() < 0.1 else 1
        times = sorted(rng.sample(range(1, 300 * 24 * 60), versions))
        for minute in times:
            updated = base + dt.timedelta(minutes=minute)
            cents = rng.randrange(-5000, 500000)
            plan = rng.choice(["free", "pro", "enterprise"])
            renew = rng.random() < 0.6
            record = {"account_no": acc, "customer_email": pad(rng, messy_case(rng, p.email)), "plan": messy_case(rng, plan),
                      "balance": render_amount(rng, cents), "currency": "USD",
                      "opened": iso(opened) if rng.random() < 0.5 else ts(opened),
                      "auto_renew": renew if rng.random() < 0.3 else render_bool(rng, renew),
                      "country": rng.choice(COUNTRY_NAMES[p.country]), "updated_at": iso(updated)}
            bill_lines.append((record, dict(account_id="bill-" + acc, customer_email=p.email, plan=plan,
                                            balance="%.2f" % (cents / 100), currency="USD", opened_at=opened,
                                            auto_renew="true" if renew else "false", country=p.country, updated=updated,
                                            _source="billing")))
    rng.shuffle(bill_lines)
    out_lines = []
    next_broken = 900000
    for record, clean in bill_lines:
        if rng.random() < 0.005:
            next_broken += 1
            kind = rng.choice(["invalid JSON", "non-numeric value"])
            bad = dict(record, account_no="A-%06d" % next_broken)
            if kind == "invalid JSON":
                out_lines.append(json.dumps(bad)[:-7])
            else:
                bad["balance"] = rng.choice(["n/a", "twelve", "$--"])
                out_lines.append(json.dumps(bad))
            dead.append(("billing", "billing_accounts.jsonl:%d" % len(out_lines), "extract" if kind == "invalid JSON" else "conform", kind))
        out_lines.append(json.dumps(record))
        key = clean["account_id"]
        if key not in accounts or clean["updated"] > accounts[key]["updated"]:
            accounts[key] = clean
    with open(os.path.join(out, "billing_accounts.jsonl"), "w") as f:
        f.write("\n".join(out_lines) + "\n")

    # --- support tickets (JSON lines) ---------------------------------------------------------
    n_tickets = int(7000 * scale)
    ticket_lines = []
    for i in range(n_tickets):
        # About 40% of requesters are customers of the CRM or the shop.
        p = rng.choice(crm_people) if rng.random() < 0.4 else Person(rng, 300000 + i)
        tid = 10000 + i
        created = base + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        resolved = created + dt.timedelta(minutes=rng.randrange(10, 20000)) if rng.random() < 0.7 else None
        priority = rng.choice(["low", "normal", "high", "urgent"])
        record = {"ticket_id": tid, "requester": {"email": pad(rng, messy_case(rng, p.email)), "phone": rng.choice(p.phones)},
                  "subject": rng.choice(["Cannot log in", "Invoice question", "Refund request", "Bug report", "Upgrade plan"]),
                  "priority": messy_case(rng, priority), "status": "closed" if resolved else "open",
                  "created_at": ts(created), "resolved_at": ts(resolved) if resolved else None}
        roll = rng.random()
        if roll < 0.003:
            record["ticket_id"] = None
            ticket_lines.append(json.dumps(record))
            dead.append(("support", "support_tickets.jsonl:%d" % len(ticket_lines), "conform", "missing key"))
            continue
        if roll < 0.006:
            record["created_at"] = rng.choice(["yesterday", "2024-02-30 10:00:00", "soon"])
            ticket_lines.append(json.dumps(record))
            dead.append(("support", "support_tickets.jsonl:%d" % len(ticket_lines), "conform", "unparsable timestamp"))
            continue
        ticket_lines.append(json.dumps(record))
        if roll < 0.03:
            ticket_lines.append(json.dumps(record))  # exported twice
        tickets["sup-%d" % tid] = dict(ticket_id="sup-%d" % tid, requester_email=p.email, requester_phone=p.phone,
                                       subject=record["subject"], priority=priority, status=record["status"],
                                       created_at=created, resolved_at=resolved, _source="support")
    with open(os.path.join(out, "support_tickets.jsonl"), "w") as f:
        f.write("\n".join(ticket_lines) + "\n")

    # --- expected outputs ------------------------------------------------------------------
    def write(name, header, rows):
        with open(os.path.join(out, "expected", name), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for row in rows:
                w.writerow(["" if v is None else v for v in row])

    write("customer.csv", ["customer_id", "source_system", "first_name", "last_name", "email", "phone", "country", "signup_date", "is_active", "updated_at", "_source"],
          [[c["customer_id"], c["source_system"], c["first_name"], c["last_name"], c["email"], c["phone"], c["country"], c["signup_date"], c["is_active"], ts(c["updated"]), c["_source"]]
           for _, c in sorted(customers.items())])
    write("account.csv", ["account_id", "customer_email", "plan", "balance", "currency", "opened_at", "auto_renew", "country", "updated_at", "_source"],
          [[a["account_id"], a["customer_email"], a["plan"], a["balance"], a["currency"], ts(a["opened_at"]), a["auto_renew"], a["country"], ts(a["updated"]), a["_source"]]
           for _, a in sorted(accounts.items())])
    write("ticket.csv", ["ticket_id", "requester_email", "requester_phone", "subject", "priority", "status", "created_at", "resolved_at", "_source"],
          [[t["ticket_id"], t["requester_email"], t["requester_phone"], t["subject"], t["priority"], t["status"], ts(t["created_at"]),
            ts(t["resolved_at"]) if t["resolved_at"] else None, t["_source"]] for _, t in sorted(tickets.items())])
    write("dead_letters.csv", ["source", "position", "stage", "reason"], sorted(dead))

    # Identity: records are one person when they share an email or a phone (the spec's rule),
    # transitively: customers of the CRM and the shop, and, through the spec's include, billing
    # accounts (by their customer email) and support tickets (by the requester's email and phone).
    # A golden id is g-<the person's record from the first source in the spec's source_priority
    # (crm, shop, billing, support), then the smallest id>.
    people = {}
    for k, c in customers.items():
        people[k] = {"email": c["email"], "phone": c["phone"]}
    for k, a in accounts.items():
        people[k] = {"email": a["customer_email"], "phone": None}
    for k, t in tickets.items():
        people[k] = {"email": t["requester_email"], "phone": t["requester_phone"]}
    parent = {k: k for k in people}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for field in ("email", "phone"):
        first = {}
        for k in sorted(people):
            v = people[k][field]
            if v in (None, ""):
                continue
            if v in first:
                a, b = find(first[v]), find(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[v] = k
    priority = {"crm": 0, "shop": 1, "bill": 2, "sup": 3}
    name = {}
    for k in people:
        root = find(k)
        rank = (priority[k.split("-")[0]], k)
        if root not in name or rank < name[root]:
            name[root] = rank
    golden = {k: "g-" + name[find(k)][1] for k in people}
    write("customer_crosswalk.csv", ["source_id", "golden_id"], [[k, golden[k]] for k in sorted(people)])
    # The golden customer owning each account: the account's own crosswalk entry.
    write("account_golden.csv", ["account_id", "golden_id"], sorted([k, golden[k]] for k in accounts))
    # Golden customers: one per person (persons known only from accounts or tickets included).
    write("customer_golden_count.csv", ["golden_customers"], [[len({find(k) for k in people})]])

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=None,
                        help="folder to write into (default: target/customer360-data-<scale>x); "
                             "the committed test data is rewritten only with --out %s --force" % here)
    parser.add_argument("--force", action="store_true",
                        help="write into a folder that already holds generated data")
    args = parser.parse_args()
    out = args.out or os.path.join(os.getcwd(), "target", "customer360-data-%gx" % args.scale)
    committed = os.path.realpath(out) == os.path.realpath(here)
    if os.path.exists(os.path.join(out, "crm_contacts.csv")) and not args.force:
        sys.exit("generate.py: %s already holds generated data%s; pass --force to replace it"
                 % (out, " (the committed test data the tests compare with)" if committed else ""))
    generate(args.seed, args.scale, out)
    print("wrote %s (seed %d, scale %g)" % (out, args.seed, args.scale))
