//! Deterministic generator of the bundled **sample** resources.
//!
//! Every record is synthetic: `sample: true`, a name starting with 【サンプル】, a description
//! ending with a note that it is fictional, a phone number in the never-assigned `000` range and
//! an `example.com` address. Records are spread over every municipality (and every ward of
//! さいたま市) of the bundled prefectures at real town coordinates, with every kind and every
//! care type represented. The same seed always gives the same records; `data/sample/
//! resources.jsonl` is this generator's output and a test keeps the two equal.

use chrono::NaiveDate;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tsunagu_model::{
    Accessibility, AgeRange, Capacity, CareSet, CareType, Contact, Kind, LatLon, RadiusKm, Resource, ResourceId,
    SAMPLE_MARK, ServiceArea, Source, TimeRange, TransportFeatures, Weekday, WeeklyHours,
};
use tsunagu_places::{Gazetteer, Municipality, MunicipalityKind};

/// The seed of the bundled sample data.
pub const DEFAULT_SEED: u64 = 20_260_401;

/// Source name carried by every sample record.
pub const SAMPLE_SOURCE: &str = "tsunagu サンプルデータ生成器（架空のデータ）";

mod details;

const BUNDLED: &str = include_str!("../../../data/sample/resources.jsonl");

/// The bundled sample records (parsed and validated).
pub fn bundled() -> Result<Vec<Resource>, String> {
    BUNDLED
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: serde_json::Value = serde_json::from_str(l).map_err(|e| format!("sample line {}: {e}", i + 1))?;
            Resource::from_json(v).map_err(|e| format!("sample line {}: {e:?}", i + 1))
        })
        .collect()
}

/// The bundled file's text, for the drift test.
pub fn bundled_text() -> &'static str {
    BUNDLED
}

/// Serialise records as JSON lines (the bundled file's format).
pub fn to_jsonl(resources: &[Resource]) -> String {
    let mut s = String::new();
    for r in resources {
        s.push_str(&serde_json::to_string(r).expect("resources serialise"));
        s.push('\n');
    }
    s
}

/// (written form, reading) of friendly names providers choose.
const NICKNAMES: &[(&str, &str)] = &[
    ("ひまわり", "ひまわり"),
    ("さくら", "さくら"),
    ("たんぽぽ", "たんぽぽ"),
    ("あおぞら", "あおぞら"),
    ("にじいろ", "にじいろ"),
    ("こもれび", "こもれび"),
    ("どんぐり", "どんぐり"),
    ("つくし", "つくし"),
    ("かがやき", "かがやき"),
    ("ほほえみ", "ほほえみ"),
    ("わかば", "わかば"),
    ("そよかぜ", "そよかぜ"),
    ("ひだまり", "ひだまり"),
    ("もみじ", "もみじ"),
    ("あすなろ", "あすなろ"),
    ("はばたき", "はばたき"),
    ("ふたば", "ふたば"),
    ("やまびこ", "やまびこ"),
    ("こすもす", "こすもす"),
    ("みらい", "みらい"),
    ("ぽかぽか", "ぽかぽか"),
    ("きらり", "きらり"),
    ("のぞみ", "のぞみ"),
    ("あゆみ", "あゆみ"),
    ("はぐくみ", "はぐくみ"),
    ("虹の子", "にじのこ"),
    ("若草", "わかくさ"),
    ("青葉", "あおば"),
    ("白樺", "しらかば"),
    ("陽だまり", "ひだまり"),
    ("星の子", "ほしのこ"),
    ("森のこみち", "もりのこみち"),
    ("すずらん", "すずらん"),
    ("りんどう", "りんどう"),
    ("こぶし", "こぶし"),
    ("まつぼっくり", "まつぼっくり"),
    ("しらさぎ", "しらさぎ"),
    ("かるがも", "かるがも"),
    ("ゆめのき", "ゆめのき"),
    ("てとて", "てとて"),
];

/// Per kind: name suffixes with readings, how many care types it tends to take, and phrases.
struct KindProfile {
    kind: Kind,
    weight: u32,
    suffixes: &'static [(&'static str, &'static str)],
    /// Probability of accepting each care type, in `CareType::ALL` order.
    care: [f64; 17],
    sentences: &'static [&'static str],
    ages: Option<(u8, u8)>,
    nurse_days: bool,
}

// Care-type order: suction_oral_nasal, suction_tracheal, tube_feeding_nasal, gastrostomy, ventilator,
// oxygen, tracheostomy, nasopharyngeal_airway, nebulizer, catheterization, insulin,
// glucose_monitoring, central_venous, dialysis, stoma, seizure_medication, pulse_oximetry
const PROFILES: &[KindProfile] = &[
    KindProfile {
        kind: Kind::Daycare,
        weight: 14,
        suffixes: &[
            ("保育園", "ほいくえん"),
            ("こども園", "こどもえん"),
            ("保育所", "ほいくしょ"),
            ("ベビーホーム", "べびーほーむ"),
        ],
        care: [0.5, 0.15, 0.3, 0.4, 0.05, 0.3, 0.15, 0.05, 0.3, 0.2, 0.15, 0.2, 0.03, 0.02, 0.1, 0.4, 0.4],
        sentences: &[
            "0歳から5歳までのお子さまをお預かりしています。",
            "看護師を配置し、医療的ケアが必要なお子さまの保育を行っています。",
            "入園前に主治医・ご家族と面談し、ケアの手順を確認します。",
            "園庭があり、季節の行事も大切にしています。",
        ],
        ages: Some((0, 5)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::Kindergarten,
        weight: 3,
        suffixes: &[("幼稚園", "ようちえん")],
        care: [0.2, 0.03, 0.1, 0.15, 0.0, 0.1, 0.05, 0.0, 0.2, 0.1, 0.2, 0.25, 0.0, 0.0, 0.05, 0.3, 0.2],
        sentences: &["3歳から5歳までのお子さまが通う幼稚園です。", "看護師が巡回し、必要なケアを行います。"],
        ages: Some((3, 5)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::SpecialNeedsSchool,
        weight: 2,
        suffixes: &[("特別支援学校", "とくべつしえんがっこう"), ("養護学校", "ようごがっこう")],
        care: [0.95, 0.8, 0.8, 0.9, 0.4, 0.8, 0.8, 0.3, 0.7, 0.7, 0.4, 0.5, 0.2, 0.05, 0.4, 0.9, 0.9],
        sentences: &[
            "医療的ケア看護職員が常駐し、授業中のケアを行います。",
            "小学部・中学部・高等部があります。",
            "スクールバスの運行があります（一部医療的ケア児は保護者送迎）。",
        ],
        ages: Some((6, 18)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::School,
        weight: 2,
        suffixes: &[("小学校", "しょうがっこう"), ("中学校", "ちゅうがっこう")],
        care: [0.3, 0.05, 0.1, 0.2, 0.0, 0.1, 0.05, 0.0, 0.1, 0.3, 0.4, 0.5, 0.0, 0.0, 0.1, 0.3, 0.2],
        sentences: &[
            "特別支援学級があり、学校看護師が医療的ケアを行います。",
            "就学相談は教育委員会で受け付けています。",
        ],
        ages: Some((6, 15)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::ChildDevelopmentSupport,
        weight: 8,
        suffixes: &[
            ("児童発達支援センター", "じどうはったつしえんせんたー"),
            ("児童発達支援事業所", "じどうはったつしえんじぎょうしょ"),
            ("こども療育室", "こどもりょういくしつ"),
        ],
        care: [0.7, 0.4, 0.5, 0.6, 0.2, 0.5, 0.4, 0.1, 0.4, 0.3, 0.15, 0.2, 0.05, 0.02, 0.2, 0.6, 0.7],
        sentences: &[
            "未就学のお子さまの療育を行っています。",
            "重症心身障害児を対象とした医療型の支援を行っています。",
            "理学療法士・作業療法士・言語聴覚士が在籍しています。",
            "送迎あり（車いす対応車両）。",
        ],
        ages: Some((0, 6)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::AfterSchoolDayService,
        weight: 10,
        suffixes: &[
            ("放課後等デイサービス", "ほうかごとうでいさーびす"),
            ("キッズデイ", "きっずでい"),
            ("放課後クラブ", "ほうかごくらぶ"),
        ],
        care: [0.6, 0.35, 0.4, 0.55, 0.15, 0.45, 0.35, 0.05, 0.35, 0.3, 0.15, 0.2, 0.05, 0.02, 0.15, 0.55, 0.6],
        sentences: &[
            "学校の授業が終わったあとや長期休暇中にご利用いただけます。",
            "重症心身障害児の受け入れを行っています。",
            "学校まで送迎します。",
            "看護師常駐で医療的ケアが必要なお子さまも安心して過ごせます。",
        ],
        ages: Some((6, 18)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::NurseryVisitSupport,
        weight: 2,
        suffixes: &[("保育所等訪問支援事業所", "ほいくしょとうほうもんしえんじぎょうしょ")],
        care: [0.3, 0.1, 0.2, 0.3, 0.05, 0.2, 0.1, 0.0, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0, 0.05, 0.2, 0.3],
        sentences: &["保育所や学校を訪問し、先生方と一緒に集団生活の支援を考えます。"],
        ages: Some((0, 18)),
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::ShortStay,
        weight: 5,
        suffixes: &[
            ("短期入所", "たんきにゅうしょ"),
            ("ショートステイ", "しょーとすてい"),
            ("レスパイトハウス", "れすぱいとはうす"),
        ],
        care: [0.85, 0.6, 0.6, 0.75, 0.35, 0.7, 0.6, 0.2, 0.6, 0.5, 0.3, 0.4, 0.15, 0.05, 0.3, 0.8, 0.85],
        sentences: &[
            "ご家族の休息（レスパイト）のための短期入所を行っています。",
            "医療型短期入所として、人工呼吸器を使用するお子さまもお預かりします。",
            "日中一時支援も行っています。",
            "ご利用前に事前面談と体験利用をお願いしています。",
        ],
        ages: Some((0, 18)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::HomeHelp,
        weight: 3,
        suffixes: &[("ヘルパーステーション", "へるぱーすてーしょん"), ("居宅介護事業所", "きょたくかいごじぎょうしょ")],
        care: [0.5, 0.3, 0.2, 0.4, 0.05, 0.1, 0.2, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.0, 0.2],
        sentences: &[
            "喀痰吸引等研修を修了したヘルパーが、入浴や食事の介助とあわせて吸引・経管栄養を行います。",
            "重度訪問介護にも対応しています。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::HomeNursing,
        weight: 10,
        suffixes: &[
            ("訪問看護ステーション", "ほうもんかんごすてーしょん"),
            ("小児訪問看護ステーション", "しょうにほうもんかんごすてーしょん"),
            ("訪問看護事業所", "ほうもんかんごじぎょうしょ"),
        ],
        care: [0.95, 0.8, 0.8, 0.9, 0.55, 0.85, 0.8, 0.3, 0.7, 0.7, 0.5, 0.6, 0.4, 0.2, 0.5, 0.8, 0.95],
        sentences: &[
            "小児の訪問看護に力を入れています。",
            "24時間対応体制をとっています。",
            "理学療法士による訪問リハビリも行います。",
            "退院前から病院と連携し、在宅生活への移行を支えます。",
        ],
        ages: Some((0, 40)),
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::HomeCareClinic,
        weight: 3,
        suffixes: &[("在宅クリニック", "ざいたくくりにっく"), ("訪問診療所", "ほうもんしんりょうじょ")],
        care: [0.9, 0.8, 0.8, 0.9, 0.7, 0.9, 0.85, 0.4, 0.8, 0.7, 0.6, 0.7, 0.6, 0.3, 0.5, 0.8, 0.9],
        sentences: &["小児の訪問診療を行っています。", "在宅療養支援診療所として24時間連絡がとれます。"],
        ages: Some((0, 40)),
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::Hospital,
        weight: 2,
        suffixes: &[("病院", "びょういん"), ("医療センター", "いりょうせんたー"), ("こども病院", "こどもびょういん")],
        care: [0.95, 0.95, 0.9, 0.95, 0.8, 0.95, 0.95, 0.6, 0.9, 0.9, 0.9, 0.9, 0.8, 0.6, 0.8, 0.95, 0.95],
        sentences: &[
            "小児科があり、医療型短期入所（レスパイト入院）を受け入れています。",
            "地域の訪問看護ステーションや診療所と連携しています。",
        ],
        ages: None,
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::Clinic,
        weight: 4,
        suffixes: &[("こどもクリニック", "こどもくりにっく"), ("小児科医院", "しょうにかいいん")],
        care: [0.6, 0.3, 0.4, 0.5, 0.1, 0.5, 0.3, 0.1, 0.7, 0.3, 0.4, 0.5, 0.1, 0.05, 0.2, 0.5, 0.7],
        sentences: &["小児科・アレルギー科の診療所です。", "胃ろうのカテーテル交換にも対応します。"],
        ages: Some((0, 18)),
        nurse_days: true,
    },
    KindProfile {
        kind: Kind::Pharmacy,
        weight: 3,
        suffixes: &[("薬局", "やっきょく"), ("調剤薬局", "ちょうざいやっきょく")],
        care: [0.0, 0.0, 0.3, 0.5, 0.0, 0.2, 0.0, 0.0, 0.3, 0.2, 0.4, 0.3, 0.3, 0.1, 0.2, 0.2, 0.0],
        sentences: &[
            "在宅医療の衛生材料や経管栄養剤をお届けします。",
            "無菌調剤室があり、中心静脈栄養の調製に対応します。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::Rehabilitation,
        weight: 2,
        suffixes: &[("リハビリセンター", "りはびりせんたー"), ("訪問リハビリ", "ほうもんりはびり")],
        care: [0.4, 0.2, 0.1, 0.2, 0.1, 0.3, 0.2, 0.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.5],
        sentences: &["理学療法・作業療法・言語聴覚療法を行います。", "姿勢保持いすや補装具の相談にのります。"],
        ages: Some((0, 18)),
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::ConsultationSupport,
        weight: 5,
        suffixes: &[
            ("相談支援事業所", "そうだんしえんじぎょうしょ"),
            ("障がい者相談支援センター", "しょうがいしゃそうだんしえんせんたー"),
        ],
        care: [0.0; 17],
        sentences: &[
            "障害児相談支援として、サービス等利用計画を作成します。",
            "医療的ケア児等コーディネーターが在籍しています。",
            "基幹相談支援センターとして地域の相談を受け付けています。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::SupportCenter,
        weight: 0,
        suffixes: &[("医療的ケア児支援センター", "いりょうてきけあじしえんせんたー")],
        care: [0.0; 17],
        sentences: &["医療的ケア児とご家族の相談窓口です。", "保育・教育・福祉・医療の関係機関をつなぎます。"],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::Coordinator,
        weight: 0,
        suffixes: &[("医療的ケア児等コーディネーター", "いりょうてきけあじとうこーでぃねーたー")],
        care: [0.0; 17],
        sentences: &[
            "圏域の医療的ケア児等コーディネーターが、支援の調整を行います。",
            "退院後の生活や入園・入学の準備を一緒に考えます。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::Transport,
        weight: 5,
        suffixes: &[
            ("福祉タクシー", "ふくしたくしー"),
            ("介護タクシー", "かいごたくしー"),
            ("移動支援センター", "いどうしえんせんたー"),
            ("民間救急", "みんかんきゅうきゅう"),
        ],
        care: [0.5, 0.3, 0.1, 0.1, 0.35, 0.6, 0.3, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.5],
        sentences: &[
            "車いすのまま乗車できる車両で送迎します。",
            "通院・通学・通園の送迎に対応します。",
            "人工呼吸器や酸素を使用中の方の移動にも対応します（事前にご相談ください）。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::EquipmentRental,
        weight: 2,
        suffixes: &[("医療機器レンタル", "いりょうききれんたる"), ("福祉用具センター", "ふくしようぐせんたー")],
        care: [0.8, 0.5, 0.0, 0.3, 0.2, 0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.8],
        sentences: &[
            "吸引器やパルスオキシメーターの貸出を行っています。",
            "日常生活用具の給付申請についてご案内します。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::PowerSupply,
        weight: 2,
        suffixes: &[
            ("電源供給拠点", "でんげんきょうきゅうきょてん"),
            ("非常用電源ステーション", "ひじょうようでんげんすてーしょん"),
        ],
        care: [0.8, 0.6, 0.0, 0.0, 0.9, 0.7, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5],
        sentences: &[
            "停電時に人工呼吸器や吸引器の電源を確保できます。",
            "発電機と蓄電池を備えています。",
            "電気自動車（EV）からの給電に対応しています。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::WelfareShelter,
        weight: 2,
        suffixes: &[("福祉避難所", "ふくしひなんじょ")],
        care: [0.5, 0.2, 0.1, 0.2, 0.2, 0.4, 0.1, 0.0, 0.2, 0.1, 0.1, 0.1, 0.0, 0.0, 0.1, 0.2, 0.3],
        sentences: &[
            "災害時には医療的ケア児とご家族を受け入れます。",
            "非常用発電機があり、医療機器の電源を確保しています。",
        ],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::FamilySupport,
        weight: 2,
        suffixes: &[("家族会", "かぞくかい"), ("きょうだい支援の会", "きょうだいしえんのかい")],
        care: [0.0; 17],
        sentences: &["医療的ケア児のご家族どうしで情報交換をしています。", "月に一度、交流会を開いています。"],
        ages: None,
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::Program,
        weight: 1,
        suffixes: &[
            ("日常生活用具給付事業", "にちじょうせいかつようぐきゅうふじぎょう"),
            ("レスパイト支援事業", "れすぱいとしえんじぎょう"),
            ("在宅療養児訪問看護助成", "ざいたくりょうようじほうもんかんごじょせい"),
        ],
        care: [0.0; 17],
        sentences: &[
            "市町村の制度です。お住まいの市町村の窓口でお申し込みください。",
            "所得により自己負担があります。",
        ],
        ages: Some((0, 18)),
        nurse_days: false,
    },
    KindProfile {
        kind: Kind::Training,
        weight: 1,
        suffixes: &[
            ("喀痰吸引等研修", "かくたんきゅういんとうけんしゅう"),
            ("医療的ケア支援者研修", "いりょうてきけあしえんしゃけんしゅう"),
        ],
        care: [0.0; 17],
        sentences: &[
            "喀痰吸引等研修（第三号研修）を実施しています。",
            "保育士・教員・ヘルパー向けの医療的ケア研修です。",
        ],
        ages: None,
        nurse_days: false,
    },
];

/// Phrases providers use for each care type, in `CareType::ALL` order.
const CARE_PHRASES: [&[&str]; 17] = [
    &["たんの吸引", "口腔・鼻腔内の吸引", "喀痰吸引"],
    &["気管カニューレ内の吸引", "気管内吸引"],
    &["経鼻経管栄養", "鼻からのチューブによる栄養注入"],
    &["胃ろうからの注入", "胃ろう・腸ろうの経管栄養"],
    &["人工呼吸器の管理", "人工呼吸器（NPPV・TPPV）"],
    &["在宅酸素療法", "酸素吸入"],
    &["気管切開部の管理", "気管切開のケア"],
    &["鼻咽頭エアウェイの管理"],
    &["ネブライザーによる吸入"],
    &["導尿", "間欠的導尿（CIC）"],
    &["インスリン注射"],
    &["血糖測定"],
    &["中心静脈カテーテルの管理"],
    &["腹膜透析"],
    &["ストーマの管理", "人工肛門のケア"],
    &["けいれん時の坐薬挿入", "てんかん発作時の対応"],
    &["パルスオキシメーターによる観察", "SpO2の測定"],
];

const CARE_SENTENCES: &[&str] = &[
    "看護師が常駐し、{a}や{b}に対応します。",
    "{a}と{b}が必要なお子さまを受け入れています。",
    "{a}に対応しています。",
    "研修を受けた職員が{a}を行います。",
    "{a}が必要な方もご相談ください。",
];

/// Generate the sample records for every municipality of the gazetteer.
pub fn generate(g: &Gazetteer, seed: u64) -> Vec<Resource> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for m in g.municipalities() {
        if m.kind == MunicipalityKind::DesignatedCity {
            continue; // its wards get the records
        }
        let towns = g.towns_of(m.code).count();
        let n = match m.kind {
            MunicipalityKind::Village => 5,
            MunicipalityKind::Town => 8,
            _ => 12 + (towns / 12).min(24),
        };
        let core: &[Kind] = match m.kind {
            MunicipalityKind::Village => &[Kind::Daycare, Kind::HomeNursing, Kind::Transport],
            MunicipalityKind::Town => &[Kind::Daycare, Kind::HomeNursing, Kind::Transport, Kind::AfterSchoolDayService],
            _ => &[
                Kind::Daycare,
                Kind::Daycare,
                Kind::HomeNursing,
                Kind::Transport,
                Kind::AfterSchoolDayService,
                Kind::ShortStay,
                Kind::ConsultationSupport,
                Kind::WelfareShelter,
            ],
        };
        for i in 0..n {
            let kind = core.get(i).copied().unwrap_or_else(|| pick_kind(&mut rng));
            out.push(make(&mut rng, g, m, kind, out.len()));
        }
    }
    // One support centre per prefecture and one coordinator per region.
    for region in g.regions() {
        let seat = g.municipality(region.members[0]).expect("region members exist");
        let seat = if seat.kind == MunicipalityKind::DesignatedCity {
            g.municipalities().iter().find(|w| w.parent == Some(seat.code)).expect("designated city has wards")
        } else {
            seat
        };
        out.push(make(&mut rng, g, seat, Kind::Coordinator, out.len()));
    }
    for pref in [20u8, 11] {
        let capital = g
            .municipalities()
            .iter()
            .find(|m| {
                m.prefecture_code == pref && m.kind != MunicipalityKind::DesignatedCity && m.code.as_u32() % 1000 <= 201
            })
            .expect("capital exists");
        out.push(make(&mut rng, g, capital, Kind::SupportCenter, out.len()));
    }
    extras(&mut rng, g, &mut out);
    out
}

/// The seat of a municipality's records: a designated city's first ward.
fn seat_of<'g>(g: &'g Gazetteer, m: &'g Municipality) -> &'g Municipality {
    if m.kind == MunicipalityKind::DesignatedCity {
        g.municipalities().iter().find(|w| w.parent == Some(m.code)).expect("designated city has wards")
    } else {
        m
    }
}

/// Programmes for some municipalities and each prefecture, and training courses for each 圏域
/// and each prefecture, after every other sample record.
fn extras(rng: &mut ChaCha8Rng, g: &Gazetteer, out: &mut Vec<Resource>) {
    for m in details::programme_municipalities(g) {
        for t in details::PROGRAMMES {
            let mut r = make(rng, g, seat_of(g, m), Kind::Program, out.len());
            r.name = format!("{SAMPLE_MARK}{} {}", m.name, t.name);
            r.name_kana = Some(format!("{}{}", m.name_kana, t.kana));
            r.description =
                format!("{}{}の制度です。※架空のサンプルデータです。実在の制度ではありません。", t.description, m.name);
            r.ages = t.ages();
            r.programme = Some(t.programme(m, out.len() + 1));
            out.push(r);
        }
    }
    for pref in [20u8, 11] {
        let members: Vec<&Municipality> = g.municipalities().iter().filter(|m| m.prefecture_code == pref).collect();
        let capital = seat_of(g, members.iter().find(|m| m.parent.is_none()).expect("a capital"));
        let prefecture = capital.prefecture.clone();
        let t = &details::PREFECTURE_PROGRAMME;
        let mut r = make(rng, g, capital, Kind::Program, out.len());
        r.name = format!("{SAMPLE_MARK}{prefecture} {}", t.name);
        r.name_kana = Some(t.kana.to_string());
        r.description =
            format!("{}{prefecture}の制度です。※架空のサンプルデータです。実在の制度ではありません。", t.description);
        r.ages = t.ages();
        r.service_area = ServiceArea::Municipalities { codes: members.iter().map(|m| m.code).collect() };
        let mut p = t.programme(capital, out.len() + 1);
        p.apply.window = "お住まいの地域の保健福祉事務所（保健所）".to_string();
        r.programme = Some(p);
        out.push(r);
        for c in details::PREFECTURE_COURSES {
            let mut r = make(rng, g, capital, Kind::Training, out.len());
            r.name = format!("{SAMPLE_MARK}{prefecture} {}", c.name);
            r.name_kana = Some(c.kana.to_string());
            r.description = format!("{}※架空のサンプルデータです。実在の研修ではありません。", c.description);
            r.service_area = ServiceArea::Municipalities { codes: members.iter().map(|m| m.code).collect() };
            let venue = format!("{}{}内の研修会場", capital.prefecture, capital.name);
            r.training = Some(details::training(
                &mut details::stream(out.len()),
                c,
                details::organiser(None, &prefecture),
                &venue,
            ));
            out.push(r);
        }
    }
    for region in g.regions() {
        let seat = seat_of(g, g.municipality(region.members[0]).expect("region members exist"));
        let c = &details::REGION_COURSE;
        let mut r = make(rng, g, seat, Kind::Training, out.len());
        r.name = format!("{SAMPLE_MARK}{}圏域 {}", region.name, c.name);
        r.name_kana = Some(c.kana.to_string());
        r.description = format!("{}※架空のサンプルデータです。実在の研修ではありません。", c.description);
        r.service_area = ServiceArea::Region { region_id: region.id.clone() };
        let venue = format!("{}{}内の研修会場", seat.prefecture, seat.name);
        r.training = Some(details::training(
            &mut details::stream(out.len()),
            c,
            details::organiser(Some(region), &seat.prefecture),
            &venue,
        ));
        out.push(r);
    }
}

fn profile(kind: Kind) -> &'static KindProfile {
    PROFILES.iter().find(|p| p.kind == kind).expect("every kind has a profile")
}

fn pick_kind(rng: &mut ChaCha8Rng) -> Kind {
    let total: u32 = PROFILES.iter().map(|p| p.weight).sum();
    let mut x = rng.random_range(0..total);
    for p in PROFILES {
        if x < p.weight {
            return p.kind;
        }
        x -= p.weight;
    }
    unreachable!("weights sum to total")
}

/// One sample record of `kind` in `m`. The random draws happen in a fixed order (the bundled file
/// is this generator's output for [`DEFAULT_SEED`], checked by a drift test).
fn make(rng: &mut ChaCha8Rng, g: &Gazetteer, m: &Municipality, kind: Kind, serial: usize) -> Resource {
    let p = profile(kind);
    let towns: Vec<_> = g.towns_of(m.code).collect();
    let town = towns.choose(rng).copied();
    let base = town.map_or(m.point, |t| t.point);
    // A few hundred metres around the town's representative point.
    let round6 = |x: f64| (x * 1e6).round() / 1e6;
    let point = LatLon::new(
        round6(base.lat() + rng.random_range(-0.002..0.002)),
        round6(base.lon() + rng.random_range(-0.0025..0.0025)),
    )
    .expect("jitter stays in range");
    let town_label = town.map(|t| strip_chome(&t.name)).unwrap_or_default();
    let (name, kana) = name_of(rng, g, m, p);
    let (care, declined) = care_of(rng, p);
    let nurse = nurse_hours(rng, p, care);
    let opening = opening_hours(rng, kind);
    let description = describe(rng, p, care, &nurse, m, &town_label);
    let service_area = service_area_of(rng, g, m, kind);
    let capacity = capacity_of(rng, kind);
    let transport = (kind == Kind::Transport).then(|| TransportFeatures {
        wheelchair: rng.random_bool(0.9),
        stretcher: rng.random_bool(0.45),
        ventilator_onboard: care.contains(CareType::Ventilator),
        escort_nurse: rng.random_bool(0.25),
    });
    let languages = languages_of(rng, m);
    let accessibility = Accessibility::ALL.iter().copied().filter(|_| rng.random_bool(0.45)).collect();
    let verified = NaiveDate::from_ymd_opt(2025, 4, 1).expect("date") + chrono::Days::new(rng.random_range(0..560));
    let n = serial + 1;
    let address = address_of(rng, m, town);
    // Details come from a stream of their own, so earlier records keep their draws.
    let mut own = details::stream(serial);
    let programme = (kind == Kind::Program).then(|| details::template_named(&name).programme(m, n));
    let training = (kind == Kind::Training).then(|| {
        let region = g.region(&m.region_id);
        let c = details::course_named(&name);
        details::training(
            &mut own,
            c,
            details::organiser(region, &m.prefecture),
            &format!("{}{}内の研修会場", m.prefecture, m.name),
        )
    });
    let power_supply =
        matches!(kind, Kind::PowerSupply | Kind::WelfareShelter).then(|| details::power_supply(&mut own, kind));
    Resource {
        id: ResourceId::from_source_id(&format!("sample:{n:05}")),
        name,
        name_kana: Some(kana),
        kind,
        care_types: care,
        care_types_declined: declined,
        care_types_conditional: Default::default(),
        care_statements: Default::default(),
        description,
        address: Some(address),
        postal_code: None,
        municipality_code: m.code,
        location: Some(point),
        service_area,
        ages: p.ages.map(|(min_years, max_years)| AgeRange { min_years, max_years }),
        capacity,
        nurse_schedule: nurse,
        opening_hours: opening,
        hours_note: None,
        operator: None,
        contact: Contact {
            // The 000 prefix is never assigned in Japan: these numbers cannot reach anyone.
            phone: Some(format!("000-000-{:04}", n % 10_000)),
            email: Some(format!("sample{n:05}@example.com")),
            url: None,
            fax: None,
        },
        languages,
        accessibility,
        departments: Vec::new(),
        transport,
        programme,
        training,
        power_supply,
        source: Source {
            name: SAMPLE_SOURCE.to_string(),
            id: Some(format!("sample:{n:05}")),
            url: None,
            date: None,
            licence: Some("CC0-1.0".to_string()),
            not_listed_since: None,
        },
        verified_at: Some(verified),
        accepting_new_children: None,
        availability_updated_at: None,
        private: None,
        sample: true,
        created_at: None,
        updated_at: None,
        site: None,
    }
}

/// The record's name and reading, marked as a sample.
fn name_of(rng: &mut ChaCha8Rng, g: &Gazetteer, m: &Municipality, p: &KindProfile) -> (String, String) {
    let (nick, nick_kana) = *NICKNAMES.choose(rng).expect("nicknames");
    let (suffix, suffix_kana) = *p.suffixes.choose(rng).expect("suffixes");
    let place_name = m.name.trim_end_matches(['市', '町', '村']).to_string();
    match p.kind {
        Kind::SupportCenter => {
            let prefecture_kana = g.prefecture(m.prefecture_code).map_or("", |x| x.name_kana.as_str());
            (format!("{}{}{}", SAMPLE_MARK, m.prefecture, suffix), format!("{prefecture_kana}{suffix_kana}"))
        }
        Kind::Coordinator => {
            let region = g.region(&m.region_id).expect("region exists");
            (format!("{}{}圏域 {}", SAMPLE_MARK, region.name, suffix), suffix_kana.to_string())
        }
        Kind::Program | Kind::Training => {
            (format!("{}{} {}", SAMPLE_MARK, m.name, suffix), format!("{}{}", m.name_kana, suffix_kana))
        }
        _ if rng.random_bool(0.35) => {
            (format!("{}{}{}{}", SAMPLE_MARK, place_name, nick, suffix), format!("{}{}", nick_kana, suffix_kana))
        }
        _ => (format!("{}{}{}", SAMPLE_MARK, nick, suffix), format!("{}{}", nick_kana, suffix_kana)),
    }
}

/// Care taken and care stated as not taken, by the kind's likelihoods.
fn care_of(rng: &mut ChaCha8Rng, p: &KindProfile) -> (CareSet, CareSet) {
    let mut care = CareSet::EMPTY;
    let mut declined = CareSet::EMPTY;
    for (i, c) in CareType::ALL.iter().enumerate() {
        if rng.random_bool(p.care[i]) {
            care.insert(*c);
        } else if p.care[i] > 0.0 && rng.random_bool(0.5) {
            declined.insert(*c);
        }
    }
    // Places that take children for the day almost always state whether they can suction.
    if p.nurse_days && !care.contains(CareType::SuctionOralNasal) && !declined.contains(CareType::SuctionOralNasal) {
        declined.insert(CareType::SuctionOralNasal);
    }
    (care, declined)
}

/// The days a nurse is on site (for kinds that take children for the day and offer care).
fn nurse_hours(rng: &mut ChaCha8Rng, p: &KindProfile, care: CareSet) -> WeeklyHours {
    let mut nurse = WeeklyHours::default();
    if p.nurse_days && !care.is_empty() {
        let hours =
            TimeRange::parse(["08:30-17:00", "09:00-16:00", "09:00-18:00", "10:00-15:00"].choose(rng).expect("hours"))
                .expect("valid");
        for d in Weekday::ALL {
            let weekday = !matches!(d, Weekday::Sat | Weekday::Sun);
            if rng.random_bool(if weekday { 0.8 } else { 0.15 }) {
                nurse.0.insert(*d, vec![hours]);
            }
        }
    }
    nurse
}

fn opening_hours(rng: &mut ChaCha8Rng, kind: Kind) -> WeeklyHours {
    let mut opening = WeeklyHours::default();
    if !matches!(kind, Kind::Program | Kind::Coordinator | Kind::FamilySupport) {
        let hours =
            TimeRange::parse(if matches!(kind, Kind::Daycare) { "07:30-18:30" } else { "09:00-17:30" }).expect("valid");
        for d in Weekday::ALL {
            if !matches!(d, Weekday::Sun) && (rng.random_bool(0.5) || !matches!(d, Weekday::Sat)) {
                opening.0.insert(*d, vec![hours]);
            }
        }
    }
    opening
}

fn service_area_of(rng: &mut ChaCha8Rng, g: &Gazetteer, m: &Municipality, kind: Kind) -> ServiceArea {
    match kind {
        Kind::HomeNursing | Kind::HomeHelp | Kind::Rehabilitation => {
            ServiceArea::Radius { radius_km: radius(rng, 8, 25) }
        }
        Kind::HomeCareClinic => ServiceArea::Radius { radius_km: RadiusKm::new(16.0).expect("valid") },
        Kind::Transport if rng.random_bool(0.25) => {
            // Some services list the municipalities they drive in: their own and neighbours in the 圏域.
            let region = g.region(&m.region_id).expect("region");
            let home = m.parent.unwrap_or(m.code);
            let n = rng.random_range(0..=3);
            let codes =
                std::iter::once(home).chain(region.members.iter().copied().filter(|c| *c != home).take(n)).collect();
            ServiceArea::Municipalities { codes }
        }
        Kind::Transport => ServiceArea::Radius { radius_km: radius(rng, 10, 40) },
        Kind::Coordinator => ServiceArea::Region { region_id: m.region_id.clone() },
        Kind::EquipmentRental | Kind::Program | Kind::ConsultationSupport => {
            ServiceArea::Municipalities { codes: g.expand(m.parent.unwrap_or(m.code)) }
        }
        Kind::SupportCenter => ServiceArea::Municipalities {
            codes: g
                .municipalities()
                .iter()
                .filter(|x| x.prefecture_code == m.prefecture_code)
                .map(|x| x.code)
                .collect(),
        },
        _ => ServiceArea::None,
    }
}

fn capacity_of(rng: &mut ChaCha8Rng, kind: Kind) -> Option<Capacity> {
    match kind {
        Kind::Daycare | Kind::Kindergarten => Some(rng.random_range(30..=120)),
        Kind::ChildDevelopmentSupport | Kind::AfterSchoolDayService => Some(rng.choose_one(&[5, 10, 10, 15, 20])),
        Kind::ShortStay => Some(rng.random_range(2..=10)),
        Kind::SpecialNeedsSchool => Some(rng.random_range(60..=250)),
        _ => None,
    }
    .map(|total: u32| Capacity { total: Some(total), vacancies: Some(rng.random_range(0..=(total / 8).clamp(1, 5))) })
}

/// Japanese, and now and then another language (Portuguese a little more often in 埼玉県, whose
/// Brazilian community is larger; made-up odds for sample data).
fn languages_of(rng: &mut ChaCha8Rng, m: &Municipality) -> Vec<String> {
    let mut languages = vec!["ja".to_string()];
    for (tag, p) in
        [("en", 0.12), ("pt", if m.prefecture_code == 11 { 0.05 } else { 0.02 }), ("zh", 0.04), ("vi", 0.03)]
    {
        if rng.random_bool(p) {
            languages.push(tag.to_string());
        }
    }
    languages
}

/// A made-up street number in the town (丁目 towns have small block numbers).
fn address_of(rng: &mut ChaCha8Rng, m: &Municipality, town: Option<&tsunagu_places::Town>) -> String {
    match town {
        Some(t) if t.name.ends_with("丁目") => {
            format!("{}{}{}{}-{}", m.prefecture, m.full_name, t.name, rng.random_range(1..30), rng.random_range(1..20))
        }
        Some(t) => format!(
            "{}{}{}{}-{}",
            m.prefecture,
            m.full_name,
            t.name,
            rng.random_range(1..3000),
            rng.random_range(1..20)
        ),
        None => format!("{}{}", m.prefecture, m.full_name),
    }
}

trait ChooseOne {
    fn choose_one(&mut self, xs: &[u32]) -> u32;
}
impl ChooseOne for ChaCha8Rng {
    fn choose_one(&mut self, xs: &[u32]) -> u32 {
        *xs.choose(self).expect("non-empty")
    }
}

fn radius(rng: &mut ChaCha8Rng, lo: u32, hi: u32) -> RadiusKm {
    RadiusKm::new(f64::from(rng.random_range(lo..=hi))).expect("radius in range")
}

fn strip_chome(town: &str) -> String {
    let t = town.trim_start_matches("大字").trim_start_matches('字');
    match t.find(|c| "一二三四五六七八九十".contains(c)) {
        Some(i) if t.ends_with("丁目") && i > 0 => t[..i].to_string(),
        _ => t.to_string(),
    }
}

fn describe(
    rng: &mut ChaCha8Rng,
    p: &KindProfile,
    care: CareSet,
    nurse: &WeeklyHours,
    m: &Municipality,
    town: &str,
) -> String {
    let mut s = String::new();
    let mut phrases: Vec<&str> = care.iter().map(|c| *CARE_PHRASES[c.index()].choose(rng).expect("phrases")).collect();
    // Descriptions mention care in an order of their own, not always all of it.
    for i in (1..phrases.len()).rev() {
        phrases.swap(i, rng.random_range(0..=i));
    }
    if let Some(first) = phrases.first() {
        let second = phrases.get(1).copied().unwrap_or("服薬管理");
        let t = CARE_SENTENCES.choose(rng).expect("sentences");
        s.push_str(&t.replace("{a}", first).replace("{b}", second));
        if phrases.len() > 2 && rng.random_bool(0.7) {
            s.push_str(&format!("{}にも対応できます。", phrases[2..].join("、")));
        }
    }
    let mut extra: Vec<&str> = p.sentences.to_vec();
    for i in (1..extra.len()).rev() {
        extra.swap(i, rng.random_range(0..=i));
    }
    for e in extra.iter().take(rng.random_range(1..=2)) {
        s.push_str(e);
    }
    let days: String = nurse.days().map(|d| d.labels().ja).collect();
    if days.len() >= 5 * 3 && !nurse.has_day(Weekday::Sat) {
        s.push_str("平日は看護師が常駐しています。");
    } else if !days.is_empty() {
        s.push_str(&format!("看護師の配置日：{days}曜日。"));
    }
    if !town.is_empty() {
        s.push_str(&format!("{}{}にあります。", m.name, town));
    }
    s.push_str("※架空のサンプルデータです。実在の施設ではありません。");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_file_is_exactly_the_generators_output() {
        let generated = to_jsonl(&generate(Gazetteer::bundled(), DEFAULT_SEED));
        assert!(
            generated == bundled_text(),
            "data/sample/resources.jsonl differs from the generator: run `cargo run -p tsunagu -- sample --out data/sample/resources.jsonl`"
        );
    }

    #[test]
    fn sample_data_covers_every_place_kind_and_care_type_and_is_marked() {
        let all = bundled().unwrap();
        assert!(all.len() >= 1_500, "{}", all.len());
        let g = Gazetteer::bundled();
        for m in g.municipalities().iter().filter(|m| m.kind != MunicipalityKind::DesignatedCity) {
            assert!(all.iter().any(|r| r.municipality_code == m.code), "no sample in {} {}", m.code, m.name);
        }
        // These kinds come from real open data only (MHLW, WAM NET); no sample imitates them.
        let real_only = [
            Kind::RegularPatrolHomeCareNursing,
            Kind::HomeVisitChildDevelopmentSupport,
            Kind::MedicalChildDevelopmentSupport,
            Kind::MedicalDisabledChildResidential,
            Kind::WelfareDisabledChildResidential,
            Kind::MedicalLongTermCare,
        ];
        for k in Kind::ALL.iter().filter(|k| !real_only.contains(k)) {
            assert!(all.iter().any(|r| r.kind == *k), "no {k}");
        }
        for c in CareType::ALL {
            assert!(all.iter().any(|r| r.care_types.contains(*c)), "no {c}");
        }
        for r in &all {
            assert!(r.sample && r.name.starts_with(SAMPLE_MARK) && r.description.contains("架空"), "{}", r.name);
            assert!(r.contact.phone.as_deref().is_some_and(|p| p.starts_with("000-")));
        }
        let ids: std::collections::HashSet<_> = all.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), all.len(), "ids are unique");
    }
}
