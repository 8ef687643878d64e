#!/usr/bin/env python3
"""Turn ../shared/data/facilities/wam_nagano_saitama.csv (WAM NET rows, see that folder's SOURCE.md)
into tsunagu's CSV layout: data/real/wam_nagano_saitama.csv.

Only the layout changes; every value is WAM NET's:
- `municipality_code` is dropped: it is the designating authority's code (a city, or blank), not the
  place. The importer places each row by its 事業所 address (down to the ward), and checks the
  `prefecture` and `municipality` columns against that.
- `kind` `medical_care_day_service_adult` (療養介護) becomes tsunagu's `medical_long_term_care`.
- `hours_weekday` and `closed_days` become one `hours_note` (「平日 09:00-17:00／定休日：土日祝」).
- a 法人番号 that is not 13 digits (19 rows of the source: 12, 11, 10 or 6 digits) is left blank and
  listed on standard error: a wrong number would link unrelated sites.
- a row whose source id (事業所番号 + サービス種別) came before is left out, and listed: WAM NET lists 4 such
  pairs twice (the same service designated twice, with small differences of wording); the first row is kept.
- control characters inside a value (a stray DEL in one name) are removed, and listed.
- `source_file` / `source_commit` become `source_name`, `source_date` (2024-03-31 for the short-stay
  file csvdownload024, 2025-03-31 for the 202503 files), `source_url` and `licence`.

Usage: python3 data/real/tools/wam_to_tsunagu.py IN.csv OUT.csv
"""
import csv, sys

SOURCE_NAME = "WAM NET 障害福祉サービス等情報公表システム オープンデータ"
SOURCE_URL = "https://www.wam.go.jp/content/wamnet/pcpub/top/sfkopendata/"
LICENCE = "WAM NET オープンデータ（二次利用可・無償。利用規約の条件による）"
KINDS = {"medical_care_day_service_adult": "medical_long_term_care"}
OUT = ["source_id", "name", "name_kana", "kind", "service_type", "prefecture", "municipality", "address",
       "lat", "lon", "phone", "fax", "url", "capacity", "hours_note", "operator", "operator_corporate_number",
       "source_name", "source_date", "source_url", "licence"]

src, dst = sys.argv[1], sys.argv[2]
rows = []
seen = set()
with open(src, encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        for k, v in r.items():
            clean = "".join(c for c in v if c >= " " and c != "\x7f")
            if clean != v:
                print(f"{r['source_id']}: control character removed from {k}: {v!r}", file=sys.stderr)
                r[k] = clean
        parts = []
        if r["hours_weekday"].strip():
            parts.append("平日 " + r["hours_weekday"].strip())
        if r["closed_days"].strip():
            parts.append("定休日：" + r["closed_days"].strip())
        date = "2024-03-31" if r["source_file"].endswith("csvdownload024.csv") else "2025-03-31"
        if date == "2025-03-31" and "/202503/" not in r["source_file"]:
            sys.exit(f"unexpected source file {r['source_file']}")
        if r["source_id"] in seen:
            print(f"{r['source_id']}: listed again ({r['name']}, {r['address']}); the first row is kept", file=sys.stderr)
            continue
        seen.add(r["source_id"])
        number = r["operator_corporate_number"].strip()
        if number and not (len(number) == 13 and number.isdigit()):
            print(f"{r['source_id']}: 法人番号 {number!r} is not 13 digits; left blank", file=sys.stderr)
            number = ""
        rows.append({
            "source_id": r["source_id"], "name": r["name"], "name_kana": r["name_kana"],
            "kind": KINDS.get(r["kind"], r["kind"]), "service_type": r["service_type"],
            "prefecture": r["prefecture"], "municipality": r["municipality"], "address": r["address"],
            "lat": r["lat"], "lon": r["lon"], "phone": r["phone"], "fax": r["fax"], "url": r["url"],
            "capacity": r["capacity"], "hours_note": "／".join(parts), "operator": r["operator"],
            "operator_corporate_number": number,
            "source_name": SOURCE_NAME, "source_date": date, "source_url": SOURCE_URL, "licence": LICENCE,
        })
with open(dst, "w", encoding="utf-8", newline="") as f:
    w = csv.DictWriter(f, OUT, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
print(f"{len(rows)} rows -> {dst}")
