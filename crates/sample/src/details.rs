//! Sample programmes (制度), courses (研修) and power points' equipment. Drawn from random streams
//! of their own (one per record), so that adding them left every earlier draw, and so every
//! earlier sample record, as it was.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tsunagu_model::details::{Eligibility, HowToApply, PowerSupply, Programme, Session, Training, jst};
use tsunagu_model::{AgeRange, Audience, CareSet, CareType, Certificate, CourseType, Device, Kind, SAMPLE_MARK};
use tsunagu_places::{Gazetteer, Municipality, Region};

/// A stream of draws for the details of record `serial`.
pub fn stream(serial: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0x7375_6e61_6775 ^ serial as u64)
}

/// One kind of programme, as municipalities commonly run it.
pub struct ProgrammeTemplate {
    pub name: &'static str,
    pub kana: &'static str,
    pub care_any: &'static [CareType],
    pub certificates: &'static [Certificate],
    pub ages: Option<(u8, u8)>,
    pub benefit: &'static str,
    pub documents: &'static [&'static str],
    pub deadline: &'static str,
    pub income_note: Option<&'static str>,
    pub note: Option<&'static str>,
    pub description: &'static str,
}

pub const PROGRAMMES: &[ProgrammeTemplate] = &[
    ProgrammeTemplate {
        name: "日常生活用具給付事業（吸引器・パルスオキシメーター）",
        kana: "にちじょうせいかつようぐきゅうふじぎょう",
        care_any: &[
            CareType::SuctionOralNasal,
            CareType::SuctionTracheal,
            CareType::PulseOximetry,
            CareType::Ventilator,
        ],
        certificates: &[Certificate::PhysicalDisability, Certificate::MedicalCareScore],
        ages: Some((0, 17)),
        benefit: "吸引器、パルスオキシメーター、ネブライザーなどの購入費を基準額の範囲内で給付します（自己負担は原則1割）。",
        documents: &["給付申請書", "購入予定の用具の見積書", "身体障害者手帳または医師の意見書"],
        deadline: "随時（購入する前に申請してください）",
        income_note: Some("世帯の所得により自己負担の上限額が変わります。"),
        note: None,
        description: "在宅で医療的ケアを受けるお子さんの日常生活用具の購入費を給付する制度です。",
    },
    ProgrammeTemplate {
        name: "在宅人工呼吸器使用者 非常用電源装置購入費助成",
        kana: "ざいたくじんこうこきゅうきしようしゃひじょうようでんげんそうちこうにゅうひじょせい",
        care_any: &[CareType::Ventilator],
        certificates: &[],
        ages: None,
        benefit: "停電に備える発電機・ポータブル蓄電池の購入費を、1台分まで上限10万円（サンプルの金額）助成します。",
        documents: &["助成申請書", "見積書", "人工呼吸器を使用していることが分かる医師の証明書"],
        deadline: "随時（予算がなくなりしだい終了）",
        income_note: None,
        note: Some("在宅で人工呼吸器を常時使用していること。"),
        description: "停電のときも人工呼吸器を動かせるよう、非常用電源の購入を助成する制度です。",
    },
    ProgrammeTemplate {
        name: "医療的ケア児 在宅レスパイト事業",
        kana: "いりょうてきけあじざいたくれすぱいとじぎょう",
        care_any: &[
            CareType::Ventilator,
            CareType::Tracheostomy,
            CareType::SuctionTracheal,
            CareType::Gastrostomy,
            CareType::TubeFeedingNasal,
            CareType::Oxygen,
            CareType::CentralVenous,
        ],
        certificates: &[Certificate::MedicalCareScore],
        ages: Some((0, 17)),
        benefit: "訪問看護師が自宅でお子さんのケアと見守りを行い、家族が休めるよう、年間96時間まで利用料を助成します。",
        documents: &["利用登録申請書", "医療的ケアの内容が分かる医師の意見書"],
        deadline: "毎年度4月から登録を受け付けます（年度途中も可）",
        income_note: Some("市町村民税の課税状況により自己負担があります。"),
        note: None,
        description: "家族の休息（レスパイト）のため、訪問看護師が自宅でお子さんを見守る時間を助成します。",
    },
    ProgrammeTemplate {
        name: "福祉タクシー利用料金助成",
        kana: "ふくしたくしーりようりょうきんじょせい",
        care_any: &[],
        certificates: &[Certificate::PhysicalDisability, Certificate::Ryoiku, Certificate::SevereMotorIntellectual],
        ages: None,
        benefit: "通院などに使う福祉タクシーの利用券（1枚500円分）を年間24枚交付します。",
        documents: &["交付申請書", "身体障害者手帳または療育手帳"],
        deadline: "随時（年度の途中からは月割りで交付）",
        income_note: None,
        note: Some("自動車税の減免や燃料費助成を受けている方は対象外です。"),
        description: "通院や外出のための福祉タクシーの利用料金を助成します。",
    },
    ProgrammeTemplate {
        name: "重症心身障害児 在宅介護手当",
        kana: "じゅうしょうしんしんしょうがいじざいたくかいごてあて",
        care_any: &[],
        certificates: &[Certificate::SevereMotorIntellectual],
        ages: Some((0, 19)),
        benefit: "在宅で重症心身障害児を介護する家族に、月額5,000円（サンプルの金額）を支給します。",
        documents: &["認定申請書", "身体障害者手帳と療育手帳の写し", "振込先口座の分かるもの"],
        deadline: "申請した月の翌月分から支給します",
        income_note: Some("所得制限があります。"),
        note: Some("施設に入所している場合は対象外です。"),
        description: "重症心身障害のあるお子さんを在宅で介護している家族への手当です。",
    },
];

/// A programme run for a whole prefecture.
pub const PREFECTURE_PROGRAMME: ProgrammeTemplate = ProgrammeTemplate {
    name: "小児慢性特定疾病児童 日常生活用具給付事業",
    kana: "しょうにまんせいとくていしっぺいじどうにちじょうせいかつようぐきゅうふじぎょう",
    care_any: &[],
    certificates: &[Certificate::PediatricChronic],
    ages: Some((0, 19)),
    benefit: "小児慢性特定疾病のお子さんに、吸引器・ネブライザー・パルスオキシメーターなどの用具を給付します。",
    documents: &["給付申請書", "小児慢性特定疾病医療受給者証の写し", "見積書"],
    deadline: "随時",
    income_note: Some("世帯の所得により自己負担があります。"),
    note: Some("身体障害者手帳による給付を受けられる用具は、そちらが優先されます。"),
    description: "小児慢性特定疾病医療費助成を受けているお子さんのための日常生活用具の給付です。",
};

/// Municipalities that get the full set of sample programmes (others get the few the generator
/// draws at random).
pub const PROGRAMME_MUNICIPALITIES: &[&str] =
    &["長野市", "松本市", "上田市", "小諸市", "佐久市", "飯田市", "さいたま市", "川越市", "所沢市", "越谷市"];

impl ProgrammeTemplate {
    pub fn programme(&self, m: &Municipality, serial: usize) -> Programme {
        Programme {
            eligibility: Eligibility {
                care_types: self.care_any.iter().copied().collect::<CareSet>(),
                certificates: self.certificates.to_vec(),
                income_note: self.income_note.map(str::to_string),
                note: self.note.map(str::to_string),
            },
            benefit: self.benefit.to_string(),
            apply: HowToApply {
                window: format!("{}の障害福祉担当窓口", m.name),
                // The 000 prefix is never assigned in Japan, like every sample number.
                phone: Some(format!("000-000-{:04}", serial % 10_000)),
                documents: self.documents.iter().map(|d| d.to_string()).collect(),
                deadline: Some(self.deadline.to_string()),
            },
            official_url: None,
        }
    }
    pub fn ages(&self) -> Option<AgeRange> {
        self.ages.map(|(min_years, max_years)| AgeRange { min_years, max_years })
    }
}

/// The template a randomly drawn programme record's name points at.
pub fn template_named(name: &str) -> &'static ProgrammeTemplate {
    if name.contains("レスパイト") || name.contains("訪問看護") { &PROGRAMMES[2] } else { &PROGRAMMES[0] }
}

/// A course of sample training: what it is, who it is for and how many sessions it has.
pub struct CourseTemplate {
    pub course: CourseType,
    pub name: &'static str,
    pub kana: &'static str,
    pub audience: &'static [Audience],
    pub days: usize,
    pub online: bool,
    pub description: &'static str,
}

/// One of these per 圏域.
pub const REGION_COURSE: CourseTemplate = CourseTemplate {
    course: CourseType::Kakutan3,
    name: "喀痰吸引等研修（第3号研修）",
    kana: "かくたんきゅういんとうけんしゅう",
    audience: &[Audience::NurseryTeacher, Audience::Teacher, Audience::Helper],
    days: 2,
    online: false,
    description: "特定のお子さんに、たんの吸引や経管栄養を行うための研修です（講義と演習）。実地研修は別に行います。",
};

/// These per prefecture.
pub const PREFECTURE_COURSES: &[CourseTemplate] = &[
    CourseTemplate {
        course: CourseType::CoordinatorCourse,
        name: "医療的ケア児等コーディネーター養成研修",
        kana: "いりょうてきけあじとうこーでぃねーたーようせいけんしゅう",
        audience: &[Audience::Coordinator, Audience::Nurse],
        days: 3,
        online: false,
        description: "医療・福祉・教育をつなぐコーディネーターを養成する研修です。相談支援専門員や保健師、看護師が対象です。",
    },
    CourseTemplate {
        course: CourseType::Supporter,
        name: "医療的ケア児等支援者養成研修",
        kana: "いりょうてきけあじとうしえんしゃようせいけんしゅう",
        audience: &[Audience::Helper, Audience::Nurse, Audience::NurseryTeacher, Audience::Teacher],
        days: 2,
        online: true,
        description: "医療的ケア児の支援に関わる職員が、基本の知識と制度を学ぶ研修です。",
    },
    CourseTemplate {
        course: CourseType::Basics,
        name: "保育士・教員のための医療的ケア入門講座",
        kana: "ほいくし・きょういんのためのいりょうてきけあにゅうもんこうざ",
        audience: &[Audience::NurseryTeacher, Audience::Teacher, Audience::Family],
        days: 1,
        online: true,
        description: "保育所や学校で医療的ケア児を受け入れるときに知っておきたいことを学ぶオンライン講座です。",
    },
];

/// Sessions of a course, on days between October 2026 and September 2027 (some past, most to
/// come, when the data was made).
pub fn sessions(rng: &mut ChaCha8Rng, t: &CourseTemplate, venue: &str) -> Vec<Session> {
    let first = NaiveDate::from_ymd_opt(2026, 10, 1).expect("date") + chrono::Days::new(rng.random_range(0..330));
    let capacity = *[20u32, 30, 40, 50].choose(rng).expect("capacities");
    let seats_left = rng.random_range(0..=capacity.min(12));
    let apply_by = first - chrono::Days::new(*[7u64, 10, 14, 21].choose(rng).expect("lead times"));
    let (h, m) = *[(9, 30), (10, 0), (13, 0), (13, 30)].choose(rng).expect("starts");
    let length = if h < 12 { Duration::hours(6) } else { Duration::minutes(210) };
    (0..t.days)
        .map(|i| {
            let day = first + chrono::Days::new(7 * i as u64);
            let starts_at = at(day, h, m);
            Session {
                starts_at,
                ends_at: starts_at + length,
                venue: (!t.online || i > 0).then(|| venue.to_string()),
                online: t.online && i == 0,
                capacity: Some(capacity),
                seats_left: Some(seats_left),
                apply_by: Some(apply_by),
                note: (t.days > 1).then(|| format!("第{}日", i + 1)),
            }
        })
        .collect()
}

fn at(day: NaiveDate, h: u32, m: u32) -> DateTime<FixedOffset> {
    jst().from_local_datetime(&day.and_hms_opt(h, m, 0).expect("time")).single().expect("JST has no gaps")
}

pub fn training(rng: &mut ChaCha8Rng, t: &CourseTemplate, organiser: String, venue: &str) -> Training {
    Training {
        course: t.course,
        organiser,
        audience: t.audience.to_vec(),
        sessions: sessions(rng, t, venue),
        how_to_apply: Some("所属先を通じて、申込書をFAXまたはメールでお送りください。".to_string()),
        fee: Some(
            if t.course == CourseType::Basics {
                "無料"
            } else {
                "受講料無料（テキスト代は自己負担）"
            }
            .to_string(),
        ),
    }
}

/// The course a randomly drawn training record's name points at.
pub fn course_named(name: &str) -> &'static CourseTemplate {
    if name.contains("喀痰吸引") { &REGION_COURSE } else { &PREFECTURE_COURSES[1] }
}

/// The organiser of a region's or a prefecture's sample course.
pub fn organiser(region: Option<&Region>, prefecture: &str) -> String {
    match region {
        Some(r) => format!("{SAMPLE_MARK}{}圏域 医療的ケア児等支援研修 実行委員会", r.name),
        None => format!("{SAMPLE_MARK}{prefecture} 医療的ケア児等支援研修 実行委員会"),
    }
}

/// What a sample power point (or a shelter with power) can power.
pub fn power_supply(rng: &mut ChaCha8Rng, kind: Kind) -> PowerSupply {
    let likely = if kind == Kind::PowerSupply { 0.8 } else { 0.45 };
    let devices = Device::ALL.iter().copied().filter(|_| rng.random_bool(likely)).collect();
    PowerSupply {
        devices,
        outlets: rng.random_bool(0.85).then(|| *[2u16, 4, 6, 10].choose(rng).expect("outlets")),
        ev: rng.random_bool(0.7).then(|| rng.random_bool(0.5)),
        generator_watts: rng.random_bool(0.7).then(|| *[900u32, 1_600, 2_800, 5_500].choose(rng).expect("watts")),
        note: rng.random_bool(0.3).then(|| "酸素ボンベの充填はできません。".to_string()),
    }
}

/// The municipalities, in gazetteer order, that get the full set of programmes.
pub fn programme_municipalities(g: &Gazetteer) -> Vec<&Municipality> {
    g.municipalities()
        .iter()
        .filter(|m| m.parent.is_none() && PROGRAMME_MUNICIPALITIES.contains(&m.name.as_str()))
        .collect()
}
