//! Programmes matched by residence and eligibility, never by distance; training sessions still to
//! come, soonest first, with seats and deadlines; the iCalendar feed read back by an independent
//! parser (the `ical` crate); power points ranked for the devices a family brings.

use crate::common;

use chrono::{Duration, Utc};
use common::{enc, key};
use serde_json::{Value, json};

fn post(server: &common::Server, k: &str, body: &Value) -> (u16, Value) {
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/v1/resources", server.base))
        .bearer_auth(k)
        .json(body)
        .send()
        .unwrap();
    (res.status().as_u16(), res.json().unwrap_or(Value::Null))
}

fn created(server: &common::Server, k: &str, body: Value) -> String {
    let (status, v) = post(server, k, &body);
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// The fields a problem names: query parameters by `name`, body members by `pointer`.
fn error_names(v: &Value) -> Vec<String> {
    v["errors"].as_array().map_or(Vec::new(), |a| {
        a.iter()
            .filter_map(|e| e["name"].as_str().or_else(|| e["pointer"].as_str().map(|p| p.trim_start_matches('/'))))
            .map(String::from)
            .collect()
    })
}

/// A real (not sample) programme for the residents of `codes`, located at `(lat, lon)`.
fn programme(
    name: &str,
    home: &str,
    codes: &[&str],
    at: (f64, f64),
    eligibility: Value,
    ages: Option<(u8, u8)>,
) -> Value {
    let mut v = json!({
        "name": name,
        "kind": "program",
        "municipality_code": home,
        "location": {"lat": at.0, "lon": at.1},
        "service_area": {"type": "municipalities", "codes": codes},
        "programme": {
            "eligibility": eligibility,
            "benefit": "購入費を助成します",
            "apply": {"window": "障害福祉担当窓口", "documents": ["申請書"], "deadline": "随時"}
        },
        "source": {"name": "テスト"},
        "sample": false
    });
    if let Some((a, b)) = ages {
        v["ages"] = json!({"min_years": a, "max_years": b});
    }
    v
}

fn names(v: &Value, list: &str) -> Vec<String> {
    v[list].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn programmes_are_matched_by_residence_and_eligibility_not_distance() {
    let server = common::start(&["--no-sample-data"]);
    let editor = key(&server, "editor", "制度担当", None);
    // 小諸市 (20208) and 上田市 (20203). The first is located in 長野市, 70 km away, yet is for
    // 小諸市's residents; the second is located in 小諸市 but is for 上田市's.
    let nagano = (36.6485, 138.1942);
    let komoro = (36.3275, 138.4258);
    let vent = json!({"care_types": ["ventilator"], "certificates": ["physical_disability"]});
    created(&server, &editor, programme("テスト 非常用電源助成", "20201", &["20208"], nagano, vent, Some((0, 17))));
    created(&server, &editor, programme("テスト 上田の手当", "20208", &["20203"], komoro, json!({}), None));
    created(&server, &editor, programme("テスト だれでも使える制度", "20208", &["20208"], komoro, json!({}), None));
    let ask = |q: &str| server.get(&format!("/v1/programmes?near={}{q}", enc("小諸市")));

    let all = ask("");
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["place"]["municipality"]["code"], "20208");
    assert_eq!(names(&all.body, "programmes"), ["テスト だれでも使える制度", "テスト 非常用電源助成"], "by residence");
    // Nothing told about the child: the open one fits, the other has conditions to check.
    let fits: Vec<(&str, &str)> = all.body["programmes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["fit"].as_str().unwrap()))
        .collect();
    assert_eq!(fits, [("テスト だれでも使える制度", "fits"), ("テスト 非常用電源助成", "to_check")]);
    assert_eq!(all.body["programmes"][1]["to_check"], json!(["age", "care_types", "certificates"]));
    assert_eq!(all.body["programmes"][1]["eligibility"]["care_types"][0]["ja"], "人工呼吸器の管理");
    assert_eq!(all.body["programmes"][1]["apply"]["window"], "障害福祉担当窓口");

    // Everything fits: listed first as fitting.
    let fit = ask("&age=4&care_types=ventilator,gastrostomy&certificates=physical_disability");
    assert_eq!(fit.body["programmes"][0]["name"], "テスト だれでも使える制度");
    assert_eq!(fit.body["programmes"][1]["fit"], "fits");
    // Each known mismatch rules it out: age, care, certificates.
    for q in ["&age=18", "&care_types=suction_oral_nasal", "&certificates=none", "&certificates=ryoiku"] {
        assert_eq!(names(&ask(q).body, "programmes"), ["テスト だれでも使える制度"], "{q}");
    }
    // 上田市's resident gets 上田's programme, though it sits in 小諸市.
    let ueda = server.get(&format!("/v1/programmes?near={}", enc("上田市")));
    assert_eq!(names(&ueda.body, "programmes"), ["テスト 上田の手当"]);
    // A point in 小諸市 is the same as its name.
    let by_point = server.get("/v1/programmes?lat=36.3275&lon=138.4258");
    assert_eq!(names(&by_point.body, "programmes"), names(&all.body, "programmes"));

    // Bad input: each problem names its field.
    for (q, field) in [
        ("near=%E5%B0%8F%E8%AB%B8%E5%B8%82&age=x", "age"),
        ("near=%E5%B0%8F%E8%AB%B8%E5%B8%82&age=120", "age"),
        ("near=%E5%B0%8F%E8%AB%B8%E5%B8%82&care_types=venti", "care_types"),
        ("near=%E5%B0%8F%E8%AB%B8%E5%B8%82&certificates=gold", "certificates"),
        ("age=3", "near"),
        ("near=%E5%B0%8F%E8%AB%B8%E5%B8%82&colour=red", "colour"),
    ] {
        let r = server.get(&format!("/v1/programmes?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(error_names(&r.body).contains(&field.to_string()), "{q}: {}", r.body);
    }

    // A programme is for residents: a radius is refused, and a programme member on a daycare.
    let mut radius = programme("テスト 半径", "20208", &["20208"], komoro, json!({}), None);
    radius["service_area"] = json!({"type": "radius", "radius_km": 10});
    let (status, v) = post(&server, &editor, &radius);
    assert_eq!((status, error_names(&v).contains(&"service_area".to_string())), (422, true), "{v}");
    let mut daycare = programme("テスト 保育所", "20208", &["20208"], komoro, json!({}), None);
    daycare["kind"] = json!("daycare");
    let (status, v) = post(&server, &editor, &daycare);
    assert_eq!((status, error_names(&v).contains(&"programme".to_string())), (422, true), "{v}");
    server.stop();
}

#[test]
fn the_bundled_sample_programmes_answer_a_matsumoto_family_with_a_ventilator() {
    let r = common::server().get(&format!("/v1/programmes?near={}&age=5&care_types=ventilator", enc("松本市")));
    assert_eq!(r.status, 200);
    let list = r.body["programmes"].as_array().unwrap();
    assert!(list.len() >= 5, "{}", r.body);
    assert!(list.iter().all(|p| p["sample"] == true && p["name"].as_str().unwrap().starts_with("【サンプル】")));
    assert_eq!(list[0]["fit"], "fits");
    assert!(list[0]["name"].as_str().unwrap().contains("非常用電源"), "{}", list[0]);
    // Prefecture-wide programmes reach every municipality of the prefecture, and none of the other.
    assert!(list.iter().any(|p| p["residents"]["prefecture"] == "長野県"));
    let saitama = common::server().get(&format!("/v1/programmes?near={}", enc("川越市")));
    let s = saitama.body["programmes"].as_array().unwrap();
    assert!(!s.is_empty() && s.iter().all(|p| p["residents"]["prefecture"] != "長野県"), "{}", saitama.body);
}

/// A course with sessions at the given offsets from now (hours), each `(start, seats_left, deadline passed)`.
fn course(name: &str, home: &str, region: &str, audience: &[&str], sessions: &[(i64, u32, bool)]) -> Value {
    let now = Utc::now();
    let sessions: Vec<Value> = sessions
        .iter()
        .map(|(h, seats, closed)| {
            let start = now + Duration::hours(*h);
            let local = start.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
            let apply_by = if *closed { local.date_naive() - chrono::Days::new(30) } else { local.date_naive() };
            json!({
                "starts_at": local.to_rfc3339(),
                "ends_at": (local + Duration::hours(3)).to_rfc3339(),
                "venue": "研修センター, 第1会議室; 2階",
                "capacity": 30,
                "seats_left": seats,
                "apply_by": apply_by,
            })
        })
        .collect();
    json!({
        "name": name,
        "kind": "training",
        "municipality_code": home,
        "service_area": {"type": "region", "region_id": region},
        "training": {"course": "kakutan_3", "organiser": "テスト研修 実行委員会", "audience": audience, "sessions": sessions},
        "contact": {"phone": "0263-00-0000"},
        "source": {"name": "テスト"},
        "sample": false
    })
}

/// RFC 5545 §3.3.11: undo the TEXT escapes.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(x) => out.push(x),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn sessions_come_soonest_first_past_ones_hidden_and_the_feed_parses_back() {
    let server = common::start(&["--no-sample-data"]);
    let editor = key(&server, "editor", "研修担当", None);
    let tricky = "テスト研修, 第1回; 演習\\基礎";
    created(
        &server,
        &editor,
        course(
            tricky,
            "20202",
            "20-07",
            &["nursery_teacher", "teacher"],
            &[(-48, 5, false), (240, 0, false), (48, 3, false)],
        ),
    );
    created(&server, &editor, course("テスト 教員向け", "20202", "20-07", &["teacher"], &[(120, 10, true)]));
    created(&server, &editor, course("テスト 北信の研修", "20211", "20-10", &["nursery_teacher"], &[(24, 8, false)]));

    let all = server.get("/v1/training");
    assert_eq!(all.status, 200, "{}", all.body);
    let starts: Vec<&str> =
        all.body["sessions"].as_array().unwrap().iter().map(|s| s["starts_at"].as_str().unwrap()).collect();
    assert_eq!(starts.len(), 4, "the past session is hidden: {}", all.body);
    assert!(
        starts.windows(2).all(|w| chrono::DateTime::parse_from_rfc3339(w[0]).unwrap()
            <= chrono::DateTime::parse_from_rfc3339(w[1]).unwrap())
    );
    let order: Vec<&str> =
        all.body["sessions"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(order, ["テスト 北信の研修", tricky, "テスト 教員向け", tricky]);
    // Seats and deadlines: full, or past its deadline, is listed but not open for applications.
    let open: Vec<bool> = all.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["open_for_applications"].as_bool().unwrap())
        .collect();
    assert_eq!(open, [true, true, false, false]);
    assert_eq!(all.body["sessions"][3]["seats_left"], 0);

    let nursery_matsumoto = server.get(&format!("/v1/training?audience=nursery_teacher&region={}", enc("松本")));
    let order: Vec<&str> =
        nursery_matsumoto.body["sessions"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(order, [tricky, tricky], "{}", nursery_matsumoto.body);
    assert_eq!(nursery_matsumoto.body["calendar"], "/v1/training.ics?audience=nursery_teacher&region=20-07");
    let open_only = server.get("/v1/training?open=true");
    assert_eq!(open_only.body["total"], 2);

    // The feed, read back by the `ical` crate.
    let res = reqwest::blocking::get(format!("{}/v1/training.ics?audience=nursery_teacher&region=20-07", server.base))
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/calendar; charset=utf-8");
    let text = res.text().unwrap();
    assert!(text.lines().all(|l| l.len() <= 76 && !l.is_empty()), "lines are folded at 75 octets and end in CRLF");
    assert!(text.split("\r\n").all(|l| !l.contains('\n')), "every line ends in CRLF");
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let cal = parser.next().expect("one calendar").expect("it parses");
    assert!(parser.next().is_none());
    let prop = |props: &[ical::property::Property], name: &str| {
        props.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
    };
    assert_eq!(prop(&cal.properties, "VERSION"), "2.0");
    assert_eq!(unescape(&prop(&cal.properties, "NAME")), "tsunagu 研修（保育士・松本圏域）");
    assert_eq!(cal.events.len(), 2);
    let mut uids = std::collections::HashSet::new();
    for (ev, json) in cal.events.iter().zip(nursery_matsumoto.body["sessions"].as_array().unwrap()) {
        assert_eq!(unescape(&prop(&ev.properties, "SUMMARY")), tricky, "escaped, folded and read back");
        assert_eq!(unescape(&prop(&ev.properties, "LOCATION")), "研修センター, 第1会議室; 2階");
        let start =
            chrono::DateTime::parse_from_rfc3339(json["starts_at"].as_str().unwrap()).unwrap().with_timezone(&Utc);
        assert_eq!(prop(&ev.properties, "DTSTART"), start.format("%Y%m%dT%H%M%SZ").to_string());
        assert!(unescape(&prop(&ev.properties, "DESCRIPTION")).contains("対象：保育士、教員"));
        assert!(!prop(&ev.properties, "DTSTAMP").is_empty());
        assert!(uids.insert(prop(&ev.properties, "UID")), "UIDs are unique");
    }
    // The same feed twice has the same UIDs (a calendar updates rather than duplicates).
    let again =
        reqwest::blocking::get(format!("{}/v1/training.ics?audience=nursery_teacher&region=20-07", server.base))
            .unwrap()
            .text()
            .unwrap();
    let uid_lines = |t: &str| t.lines().filter(|l| l.starts_with("UID:")).map(String::from).collect::<Vec<_>>();
    assert_eq!(uid_lines(&text), uid_lines(&again));

    // Dates are checked: an end before the start, a deadline after the session, more seats left
    // than the capacity.
    let mut bad = course("テスト 日付", "20202", "20-07", &["nurse"], &[(24, 40, false)]);
    let s = &mut bad["training"]["sessions"][0];
    let start = s["starts_at"].clone();
    s["ends_at"] = json!("2020-01-01T10:00:00+09:00");
    s["apply_by"] = json!(
        chrono::DateTime::parse_from_rfc3339(start.as_str().unwrap()).unwrap().date_naive() + chrono::Days::new(1)
    );
    let (status, v) = post(&server, &editor, &bad);
    assert_eq!(status, 422, "{v}");
    for f in ["ends_at", "apply_by", "seats_left"] {
        assert!(error_names(&v).contains(&format!("training/sessions/0/{f}")), "{f}: {v}");
    }
    for (q, field) in [
        ("audience=cook", "audience"),
        ("region=nowhere", "region"),
        ("course=kakutan_9", "course"),
        ("course=", "course"),
        ("open=maybe", "open"),
        ("limit=0", "limit"),
    ] {
        let r = server.get(&format!("/v1/training?{q}"));
        assert_eq!(r.status, 400, "{q}");
        assert!(error_names(&r.body).contains(&field.to_string()), "{q}: {}", r.body);
    }
    assert_eq!(server.get("/v1/training.ics?region=nowhere").status, 400);
    server.stop();
}

#[test]
fn power_points_are_ranked_for_the_devices_a_family_brings() {
    let server = common::start(&["--no-sample-data"]);
    let editor = key(&server, "editor", "電源担当", None);
    let point = |name: &str, lat: f64, power: Value| {
        json!({
            "name": name, "kind": "power_supply", "municipality_code": "20202",
            "location": {"lat": lat, "lon": 137.972}, "power_supply": power,
            "source": {"name": "テスト"}, "sample": false
        })
    };
    // Nearest first: one says nothing, one has two outlets only, one powers a ventilator and
    // suction, one is farther and powers everything.
    let silent = created(&server, &editor, point("テスト 何も言わない拠点", 36.239, json!({})));
    let two = created(
        &server,
        &editor,
        point(
            "テスト 2口の拠点",
            36.242,
            json!({"devices": ["ventilator", "suction", "oxygen_concentrator"], "outlets": 2}),
        ),
    );
    let vs = created(
        &server,
        &editor,
        point("テスト 呼吸器と吸引器", 36.25, json!({"devices": ["ventilator", "suction"], "generator_watts": 1500})),
    );
    let far = created(
        &server,
        &editor,
        point(
            "テスト 遠いが全部",
            36.30,
            json!({"devices": ["ventilator", "suction", "oxygen_concentrator"], "outlets": 6}),
        ),
    );
    let ask = |q: &str| server.get(&format!("/v1/power_points?lat=36.2381&lon=137.972{q}"));
    let ids = |r: &common::Reply| -> Vec<String> {
        r.body["points"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect()
    };

    let r = ask("&devices=ventilator,suction");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        ids(&r),
        [two.clone(), vs.clone(), far.clone(), silent.clone()],
        "those that say they can, nearest first"
    );
    let r = ask("&devices=ventilator,suction,oxygen_concentrator");
    assert_eq!(
        ids(&r),
        [far.clone(), vs.clone(), silent.clone(), two.clone()],
        "fewer unknowns first; too few outlets last"
    );
    assert_eq!(r.body["points"][1]["devices"]["unknown"][0]["code"], "oxygen_concentrator", "not said: ask, not no");
    assert_eq!(r.body["points"][3]["devices"]["too_few_outlets"], true);
    let r = ask("&devices=ventilator&watts=2000");
    assert_eq!(r.body["points"].as_array().unwrap().last().unwrap()["id"], vs.as_str(), "over the generator's output");
    // An editor reports the nearest as full: it drops behind the unknown ones.
    let res = reqwest::blocking::Client::new()
        .put(format!("{}/v1/resources/{two}/power_status", server.base))
        .bearer_auth(&editor)
        .json(&json!({"state": "full"}))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let r = ask("&devices=ventilator,suction");
    assert_eq!(ids(&r), [vs, far, silent, two], "full goes after those not reported");
    assert_eq!(r.body["points"][3]["status"]["state"], "full");
    for (q, field) in [("&devices=toaster", "devices"), ("&watts=-5", "watts"), ("&limit=99", "limit")] {
        let r = ask(q);
        assert_eq!(r.status, 400, "{q}");
        assert!(error_names(&r.body).contains(&field.to_string()), "{q}: {}", r.body);
    }
    server.stop();
}

fn page(path: &str) -> (u16, String) {
    let res = reqwest::blocking::get(format!("{}{path}", common::server().base)).unwrap();
    (res.status().as_u16(), res.text().unwrap())
}

#[test]
fn the_pages_answer_in_the_pages_language_and_link_from_a_search() {
    let (status, html) = page(&format!("/programmes?near={}&age=5&care_types=ventilator&lang=ja", enc("松本市")));
    assert_eq!(status, 200);
    assert!(html.contains("長野県松本市に住んでいる人が使える制度"), "the heading names the municipality");
    assert!(html.contains("条件に合います") && html.contains("確認が必要：手帳・受給者証"), "fit badges");
    assert!(html.contains("持ち物：") && html.contains("href=\"tel:000000"), "how to apply, with a phone link");
    let (_, en) = page(&format!("/programmes?near={}&age=5&care_types=ventilator&lang=en", enc("松本市")));
    assert!(en.contains("Programmes for residents of") && en.contains("You fit its conditions"));
    // Bad input: the page says what is wrong, in its language, with the right status.
    let (status, html) = page(&format!("/programmes?near={}&age=abc&lang=ja", enc("松本市")));
    assert_eq!(status, 400);
    assert!(html.contains("年齢：読み取れませんでした。") && !html.contains("is not an age"), "Japanese message");
    let (status, html) = page(&format!("/programmes?near={}&certificates=gold&lang=ja", enc("松本市")));
    assert_eq!(status, 400);
    assert!(html.contains("手帳・受給者証：選べるものの中にありません。"));
    let (status, html) = page(&format!("/programmes?near={}&lang=ja", enc("xyzzy町")));
    assert_eq!(status, 404);
    assert!(html.contains("見つかりませんでした"));
    let (status, html) = page("/training?region=nowhere&lang=ja");
    assert_eq!(status, 400);
    assert!(html.contains("圏域：選べるものの中にありません。"));
    let (status, html) = page("/training?audience=nursery_teacher&lang=ja");
    assert_eq!(status, 200);
    assert!(html.contains("カレンダーに登録") && html.contains("/v1/training.ics?audience=nursery_teacher"));
    assert!(html.contains("申込締切") || html.contains("申込は締め切りました"));
    // A search for programmes points at the programmes page, with the place carried over.
    let (_, html) = page(&format!("/?q={}&lang=ja", enc("制度 松本市")));
    assert!(html.contains("使える制度をしらべる") && html.contains("/programmes?near="), "offer link");
    let (_, html) = page(&format!("/?q={}&lang=ja", enc("研修 松本市")));
    assert!(html.contains("/training?region=20-07"), "training link for the place's 圏域");
    // The home page names both.
    let (_, home) = page("/?lang=ja");
    assert!(home.contains("href=\"/programmes\"") && home.contains("href=\"/training\""));
    // A programme's page shows its conditions and application; a course's its sessions.
    let list = common::server().get(&format!("/v1/programmes?near={}", enc("松本市")));
    let id = list.body["programmes"][0]["id"].as_str().unwrap().to_string();
    let (_, record) = page(&format!("/resources/{id}?lang=ja"));
    assert!(record.contains("制度の内容") && record.contains("申し込み"));
    assert!(!record.contains("対応できるケア"), "a programme gives no care: no care row");
}
