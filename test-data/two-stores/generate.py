#!/usr/bin/env python3
"""Generates two unrelated store databases and the canonical tables a job must make of them.

Two systems that never agreed on anything sell to customers:

  music.sql     a digital music store (in the shape of the public Chinook sample): Customer with
                FirstName, LastName, Company, Country names in English, Phone in international
                form, Email; Invoice with an InvoiceDate TIMESTAMP and a Total.
  trading.sql   a trading company (in the shape of the public Northwind sample): Customers keyed
                by five-letter codes, one ContactName, Country names and abbreviations ("UK",
                "USA", "Deutschland"), Phone written the way each country writes it without a
                country code, some junk; Orders with an OrderDate text, Freight written with a
                decimal comma; "Order Details" lines with UnitPrice, Quantity and a Discount.

Both are SQL scripts a job loads into DuckDB at run time. Every clean value is made first and only
then rendered in each system's way, so the generator knows exactly what the job must produce:
expected/customer.csv and expected/sales_order.csv (ordered by key), and
expected/dead_letters.csv (source, position, stage, reason of every record that cannot be
conformed). The end-to-end test compares the job's output with these files row by row.

Usage: python3 generate.py [--seed 11] [--out DIR] [--force]
"""

import argparse
import datetime as dt
import os
import random
import sys
from decimal import Decimal, ROUND_HALF_UP

FIRST = ["Astrid", "Bruno", "Carla", "Dmitri", "Elena", "Frank", "Gisela", "Hannah", "Ivan",
         "Julia", "Kurt", "Lena", "Marco", "Nina", "Oscar", "Petra", "Rafael", "Sara", "Tomas",
         "Ursula", "Viktor", "Wendy"]
LAST = ["Almeida", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Gruber", "Hansen",
        "Ivanova", "Jensen", "Kowalski", "Lambert", "Moreau", "Novak", "Olsen", "Peeters",
        "Quinn", "Rossi", "Schulz", "Taylor"]
COMPANIES = ["Acme GmbH", "Blue Note Ltd", "Corvid SA", "Delta Foods", "Elbe Handel", None, None]

# Country: the names each system writes, and a phone maker returning (E.164, national form).
COUNTRIES = {
    "DE": (["Germany"], ["Germany", "Deutschland"]),
    "GB": (["United Kingdom"], ["UK", "United Kingdom"]),
    "US": (["USA"], ["USA"]),
    "FR": (["France"], ["France"]),
    "BR": (["Brazil"], ["Brazil", "Brasil"]),
}


def phone(rng, country):
    if country == "DE":
        sub = "%07d" % rng.randint(2000000, 9999999)
        return "+4930" + sub, "030-" + sub
    if country == "GB":
        sub = "%07d" % rng.randint(2000000, 9999999)
        return "+44207" + sub, "(020) 7" + sub[:3] + " " + sub[3:]
    if country == "US":
        exch = rng.randint(201, 989)
        while exch % 100 == 11 or exch == 555:
            exch = rng.randint(201, 989)
        line = "%04d" % rng.randint(0, 9999)
        return "+1212%d%s" % (exch, line), "(212) %d-%s" % (exch, line)
    if country == "FR":
        sub = "%08d" % rng.randint(10000000, 99999999)
        return "+331" + sub, "01 " + " ".join(sub[i:i + 2] for i in range(0, 8, 2))
    sub = "%04d" % rng.randint(0, 9999)
    return "+55113555" + sub, "(11) 3555-" + sub


def money(value):
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def sql_text(value):
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def generate(seed, out):
    rng = random.Random(seed)
    customers = []
    dead = []
    base = dt.datetime(2024, 1, 1)

    # --- the music store (Chinook's shape) ----------------------------------------------------
    music_customers = []
    invoices = []
    invoice_id = 0
    for cid in range(1, 41):
        country = rng.choice(list(COUNTRIES))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        e164, _ = phone(rng, country)
        company = rng.choice(COMPANIES)
        email = "%s.%s%d@music.example.com" % (first.lower(), last.lower(), cid)
        # The store writes phones in international form with spaces.
        rendered = e164[:3] + " " + e164[3:6] + " " + e164[6:]
        music_customers.append((cid, first, last, company, COUNTRIES[country][0][0], rendered, email))
        customers.append(dict(customer_id="music-%d" % cid, name=first + " " + last, company=company or "",
                              country=country, phone=e164, email=email, _source="music"))
        for _ in range(rng.randint(0, 4)):
            invoice_id += 1
            when = base + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            total = money(rng.randrange(99, 2000) / 100)
            invoices.append((invoice_id, cid, when, COUNTRIES[country][0][0], total))
    with open(os.path.join(out, "music.sql"), "w") as f:
        f.write("-- A digital music store's customers and invoices, loaded into DuckDB at run time.\n")
        f.write('CREATE TABLE "Customer" ("CustomerId" INTEGER PRIMARY KEY, "FirstName" VARCHAR, "LastName" VARCHAR,\n'
                '  "Company" VARCHAR, "Country" VARCHAR, "Phone" VARCHAR, "Email" VARCHAR);\n')
        f.write('INSERT INTO "Customer" VALUES\n' + ",\n".join(
            "(%d, %s, %s, %s, %s, %s, %s)" % (c[0], sql_text(c[1]), sql_text(c[2]), sql_text(c[3]), sql_text(c[4]),
                                              sql_text(c[5]), sql_text(c[6])) for c in music_customers) + ";\n")
        f.write('CREATE TABLE "Invoice" ("InvoiceId" INTEGER PRIMARY KEY, "CustomerId" INTEGER, '
                '"InvoiceDate" TIMESTAMP, "BillingCountry" VARCHAR, "Total" DECIMAL(10,2));\n')
        f.write('INSERT INTO "Invoice" VALUES\n' + ",\n".join(
            "(%d, %d, TIMESTAMP '%s', %s, %s)" % (i[0], i[1], i[2].strftime("%Y-%m-%d %H:%M:%S"), sql_text(i[3]), i[4])
            for i in invoices) + ";\n")
    orders = [dict(order_id="music-%d" % i[0], customer_id="music-%d" % i[1], ordered_on=i[2].date().isoformat(),
                   amount=i[4], _source="music_invoices") for i in invoices]

    # --- the trading company (Northwind's shape) ----------------------------------------------
    trading_customers = []
    trading_orders = []
    details = []
    used = set()
    order_id = 10247
    for n in range(30):
        country = rng.choice(list(COUNTRIES))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        code = (last[:3] + first[:2]).upper()
        while code in used:
            code = code[:4] + chr(ord("A") + rng.randrange(26))
        used.add(code)
        company = "%s %s" % (last, rng.choice(["Handel", "Trading", "Imports", "& Co."]))
        e164, national = phone(rng, country)
        written_country = rng.choice(COUNTRIES[country][1])
        junk = rng.random() < 0.1
        if junk:
            national = rng.choice(["n/a", "ask Peter", "12"])
        trading_customers.append((code, company, first + " " + last, written_country, national))
        customers.append(dict(customer_id="trade-" + code, name=first + " " + last, company=company,
                              country=country, phone="" if junk else e164, email="", _source="trading"))
        for _ in range(rng.randint(0, 5)):
            order_id += 1
            day = (base + dt.timedelta(days=rng.randrange(365))).date()
            freight = money(rng.randrange(0, 20000) / 100)
            total = Decimal(0)
            for line in range(rng.randint(1, 3)):
                price = money(rng.randrange(200, 9000) / 100)
                quantity = rng.randint(1, 40)
                discount = rng.choice([0, 0, 0, 5, 10, 15, 25])
                details.append((order_id, line + 1, price, quantity, discount))
                total += price * quantity * (100 - discount) / 100
            bad_date = rng.random() < 0.04
            written_day = "sometime" if bad_date else day.strftime("%d.%m.%Y")
            trading_orders.append((order_id, code, written_day, str(freight).replace(".", ",")))
            if bad_date:
                dead.append(("trading_orders", "query order_id=%d" % order_id, "conform", "unparsable date"))
            else:
                orders.append(dict(order_id="trade-%d" % order_id, customer_id="trade-" + code,
                                   ordered_on=day.isoformat(), amount=money(total + freight), _source="trading_orders"))
    with open(os.path.join(out, "trading.sql"), "w") as f:
        f.write("-- A trading company's customers, orders and order lines, loaded into DuckDB at run time.\n")
        f.write('CREATE TABLE "Customers" ("CustomerID" VARCHAR PRIMARY KEY, "CompanyName" VARCHAR, '
                '"ContactName" VARCHAR, "Country" VARCHAR, "Phone" VARCHAR);\n')
        f.write('INSERT INTO "Customers" VALUES\n' + ",\n".join(
            "(%s, %s, %s, %s, %s)" % tuple(sql_text(v) for v in c) for c in trading_customers) + ";\n")
        f.write('CREATE TABLE "Orders" ("OrderID" INTEGER PRIMARY KEY, "CustomerID" VARCHAR, "OrderDate" VARCHAR, '
                '"Freight" VARCHAR);\n')
        f.write('INSERT INTO "Orders" VALUES\n' + ",\n".join(
            "(%d, %s, %s, %s)" % (o[0], sql_text(o[1]), sql_text(o[2]), sql_text(o[3])) for o in trading_orders) + ";\n")
        f.write('CREATE TABLE "Order Details" ("OrderID" INTEGER, "Line" INTEGER, "UnitPrice" DECIMAL(10,2), '
                '"Quantity" INTEGER, "Discount" INTEGER);\n')
        f.write('INSERT INTO "Order Details" VALUES\n' + ",\n".join(
            "(%d, %d, %s, %d, %d)" % d for d in details) + ";\n")

    # --- what the job must produce -------------------------------------------------------------
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)

    def write(name, header, rows):
        with open(os.path.join(out, "expected", name), "w") as f:
            f.write(",".join(header) + "\n")
            for row in rows:
                f.write(",".join(quote(str(v)) for v in row) + "\n")

    def quote(value):
        return '"%s"' % value.replace('"', '""') if ("," in value or '"' in value) else value

    customers.sort(key=lambda c: c["customer_id"])
    write("customer.csv", ["customer_id", "name", "company", "country", "phone", "email", "_source"],
          [[c["customer_id"], c["name"], c["company"], c["country"], c["phone"], c["email"], c["_source"]]
           for c in customers])
    orders.sort(key=lambda o: o["order_id"])
    write("sales_order.csv", ["order_id", "customer_id", "ordered_on", "amount", "_source"],
          [[o["order_id"], o["customer_id"], o["ordered_on"], o["amount"], o["_source"]] for o in orders])
    write("dead_letters.csv", ["source", "position", "stage", "reason"], sorted(dead))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    if os.path.exists(os.path.join(args.out, "music.sql")) and not args.force:
        sys.exit("%s already holds generated data; pass --force to replace it" % args.out)
    os.makedirs(args.out, exist_ok=True)
    generate(args.seed, args.out)


if __name__ == "__main__":
    main()
