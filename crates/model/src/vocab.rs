//! The closed vocabularies of tsunagu: kinds of resources (施設・サービスの種別), care types
//! (医療的ケアの種類, after the official 医療的ケア判定スコア), weekdays and accessibility features.
//!
//! Each term has a stable snake_case `code` (used in the API, the store and exports), a Japanese
//! label, an English label, a やさしい日本語 (plain Japanese) label for families and a one-line
//! explanation in both languages. Colloquial forms and synonyms used for search live as data in
//! `index/` (see the search crate), not here.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::suggest;

/// The labels of one vocabulary term, as shown to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Labels {
    pub code: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    /// やさしい日本語: plain wording for families.
    pub easy_ja: &'static str,
    pub explain_ja: &'static str,
    pub explain_en: &'static str,
}

/// Error for a code that is not in a closed vocabulary. Carries the allowed values and a
/// suggestion so callers can say "unknown care type `suckton`; did you mean …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} `{given}`{}; allowed: {}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default(), .allowed.join(", "))]
pub struct UnknownTerm {
    pub vocabulary: &'static str,
    pub given: String,
    pub suggestion: Option<String>,
    pub allowed: Vec<&'static str>,
}

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $variant:ident = $code:literal { ja: $ja:literal, en: $en:literal, easy: $easy:literal,
               explain_ja: $xja:literal, explain_en: $xen:literal } ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $( $variant ),+ }

        impl $name {
            /// Every term, in vocabulary order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];
            /// What this vocabulary is called in error messages.
            pub const VOCABULARY: &'static str = $what;

            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code ),+ }
            }
            pub const fn labels(self) -> Labels {
                match self {
                    $( $name::$variant => Labels { code: $code, ja: $ja, en: $en, easy_ja: $easy,
                                                   explain_ja: $xja, explain_en: $xen } ),+
                }
            }
            /// Position in [`Self::ALL`]; stable within a release, used for bitsets and fast fields.
            pub fn index(self) -> usize {
                self as usize
            }
            pub fn from_index(i: usize) -> Option<Self> {
                Self::ALL.get(i).copied()
            }
            pub fn codes() -> Vec<&'static str> {
                Self::ALL.iter().map(|t| t.code()).collect()
            }
        }

        impl FromStr for $name {
            type Err = UnknownTerm;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let trimmed = s.trim();
                match trimmed {
                    $( $code => Ok($name::$variant), )+
                    _ => Err(UnknownTerm {
                        vocabulary: $what,
                        given: trimmed.to_string(),
                        suggestion: suggest(trimmed, &Self::codes()).map(str::to_string),
                        allowed: Self::codes(),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownTerm;
            fn try_from(s: String) -> Result<Self, Self::Error> { s.parse() }
        }

        impl From<$name> for &'static str {
            fn from(t: $name) -> &'static str { t.code() }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.code()) }
        }
    };
}

vocabulary! {
    /// The kind of a resource (施設・サービスの種別).
    Kind, "kind" {
        Daycare = "daycare" { ja: "保育所・認定こども園", en: "Daycare / nursery", easy: "ほいくえん・こどもえん",
            explain_ja: "保育所、認定こども園、小規模保育など。看護師の配置により医療的ケア児を受け入れる園があります。",
            explain_en: "Nursery schools and certified centres for early childhood; some accept children with medical care needs when a nurse is present." },
        Kindergarten = "kindergarten" { ja: "幼稚園", en: "Kindergarten", easy: "ようちえん",
            explain_ja: "3歳からの幼稚園。", explain_en: "Kindergarten from age 3." },
        SpecialNeedsSchool = "special_needs_school" { ja: "特別支援学校", en: "Special needs school", easy: "とくべつしえんがっこう",
            explain_ja: "医療的ケア看護職員が配置され、学校で医療的ケアを受けられる学校。",
            explain_en: "Schools for children with disabilities, with nurses for medical care during school hours." },
        School = "school" { ja: "小学校・中学校", en: "Elementary / junior high school", easy: "しょうがっこう・ちゅうがっこう",
            explain_ja: "地域の小中学校（特別支援学級を含む）。", explain_en: "Local schools, including special support classes." },
        ChildDevelopmentSupport = "child_development_support" { ja: "児童発達支援", en: "Child development support", easy: "じどう はったつ しえん（しゅうがくまえ の こども）",
            explain_ja: "未就学の子どもの療育の場。医療型・居宅訪問型もあります。",
            explain_en: "Day programmes for preschool children with developmental needs, including medical and home-visit types." },
        HomeVisitChildDevelopmentSupport = "home_visit_child_development_support" { ja: "居宅訪問型児童発達支援", en: "Home-visit child development support", easy: "いえに きて くれる りょういく",
            explain_ja: "重い障害や医療的ケアのため外出が難しい子どもの家を訪問して、療育を行います（訪問型児発）。",
            explain_en: "Developmental support at home for children who cannot easily go out because of severe disabilities or medical care." },
        MedicalChildDevelopmentSupport = "medical_child_development_support" { ja: "医療型児童発達支援", en: "Medical child development support", easy: "いりょうも うけられる りょういくの ばしょ",
            explain_ja: "療育とあわせて治療（リハビリなど）も受けられる児童発達支援。主に肢体不自由のある子どもが対象です。",
            explain_en: "Child development support with medical treatment such as rehabilitation, mainly for children with physical disabilities." },
        AfterSchoolDayService = "after_school_day_service" { ja: "放課後等デイサービス", en: "After-school day service", easy: "ほうかご デイサービス",
            explain_ja: "学校のあとや休みの日に通う場所（放デイ）。", explain_en: "After-school and holiday programmes for school-age children." },
        NurseryVisitSupport = "nursery_visit_support" { ja: "保育所等訪問支援", en: "Nursery visit support", easy: "ほいくえん などへの ほうもん しえん",
            explain_ja: "専門職が保育所や学校を訪問し、集団生活を支えます。", explain_en: "Specialists visit nurseries and schools to support the child there." },
        ShortStay = "short_stay" { ja: "短期入所（ショートステイ・レスパイト）", en: "Short stay / respite", easy: "みじかい あいだ あずかる ところ",
            explain_ja: "家族の休息や用事のために、短い期間お子さんを預かります。日中一時支援を含みます。",
            explain_en: "Short overnight or daytime stays so families can rest (respite)." },
        MedicalDisabledChildResidential = "medical_disabled_child_residential" { ja: "医療型障害児入所施設", en: "Medical residential facility for children with disabilities", easy: "いりょうの ある にゅうしょ しせつ（こども）",
            explain_ja: "医療的なケアと生活の支援を受けながら入所する施設（重症心身障害児施設など）。短期入所を行う施設も多くあります。",
            explain_en: "Residential care with medical support for children with severe disabilities; many also offer short stays." },
        WelfareDisabledChildResidential = "welfare_disabled_child_residential" { ja: "福祉型障害児入所施設", en: "Residential facility for children with disabilities", easy: "こどもが くらす にゅうしょ しせつ",
            explain_ja: "障害のある子どもが入所して、生活の支援を受ける施設。",
            explain_en: "Residential care and daily-living support for children with disabilities." },
        MedicalLongTermCare = "medical_long_term_care" { ja: "療養介護", en: "Medical long-term care (adults)", easy: "おとなの ための いりょうと かいご",
            explain_ja: "医療と常時の介護が必要な方が、病院などで日中に受けるサービス。主に18歳以上が対象で、医療型障害児入所施設と同じ場所にあることが多いです。",
            explain_en: "Daytime medical and nursing care in a hospital setting for people who need both constantly; mainly for adults (18+), often at the same site as a medical residential facility for children." },
        HomeHelp = "home_help" { ja: "居宅介護（ホームヘルプ）", en: "Home help", easy: "いえに きて てつだう サービス",
            explain_ja: "ヘルパーが自宅で入浴や食事などを手伝います。", explain_en: "Helpers assist with bathing, meals and daily care at home." },
        HomeNursing = "home_nursing" { ja: "訪問看護", en: "Visiting nurse (home nursing)", easy: "かんごしが いえに くる サービス",
            explain_ja: "看護師が自宅を訪問し、医療的ケアや健康管理を行います（訪看）。",
            explain_en: "Nurses visit the home for medical care and health checks." },
        RegularPatrolHomeCareNursing = "regular_patrol_home_care_nursing" { ja: "定期巡回・随時対応型訪問介護看護", en: "24-hour home care and nursing (long-term care insurance)", easy: "24じかん きてくれる かいご・かんご（かいごほけん）",
            explain_ja: "介護保険のサービスで、ヘルパーと看護師が定期的に、また必要なときに自宅を訪問します。主に高齢の方が対象です。お子さんの利用は市町村にご相談ください。",
            explain_en: "A long-term care insurance service: helpers and nurses visit on a schedule and on call. Mostly for older adults; ask your municipality about children." },
        HomeCareClinic = "home_care_clinic" { ja: "在宅療養支援診療所（訪問診療）", en: "Home care clinic (doctor visits)", easy: "いしゃが いえに くる びょういん",
            explain_ja: "医師が定期的に自宅を訪問して診療します。", explain_en: "Doctors who visit the home regularly." },
        Hospital = "hospital" { ja: "病院", en: "Hospital", easy: "びょういん",
            explain_ja: "入院設備のある病院。小児科や医療型短期入所を持つ病院もあります。", explain_en: "Hospitals, some with paediatrics or medical short stay." },
        Clinic = "clinic" { ja: "診療所・クリニック", en: "Clinic", easy: "クリニック",
            explain_ja: "地域の診療所、小児科医院。", explain_en: "Local clinics and paediatric practices." },
        Pharmacy = "pharmacy" { ja: "薬局", en: "Pharmacy", easy: "くすりや",
            explain_ja: "在宅医療の薬や衛生材料を扱う薬局。", explain_en: "Pharmacies supplying home-care medicine and materials." },
        Rehabilitation = "rehabilitation" { ja: "リハビリテーション", en: "Rehabilitation", easy: "リハビリ",
            explain_ja: "理学療法・作業療法・言語聴覚療法。", explain_en: "Physical, occupational and speech therapy." },
        ConsultationSupport = "consultation_support" { ja: "相談支援事業所", en: "Consultation support office", easy: "そうだん できる ところ",
            explain_ja: "サービスの利用計画を一緒に作り、困りごとの相談にのります。",
            explain_en: "Offices that plan services with the family and help with everyday questions." },
        SupportCenter = "support_center" { ja: "医療的ケア児支援センター", en: "Medical care children support center", easy: "いりょうてきケアじ しえんセンター",
            explain_ja: "医療的ケア児と家族の相談窓口。地域の資源の情報を持っています。",
            explain_en: "The prefectural centre that answers questions and knows the local resources." },
        Coordinator = "coordinator" { ja: "医療的ケア児等コーディネーター", en: "Medical care coordinator", easy: "いりょうてきケアの コーディネーター",
            explain_ja: "医療・福祉・教育をつなぎ、支援を調整する専門職。", explain_en: "Professionals who connect medical, welfare and education support." },
        Transport = "transport" { ja: "移動支援・福祉タクシー", en: "Transport (welfare taxi, mobility support)", easy: "いどう を てつだう サービス",
            explain_ja: "車いすやストレッチャー、人工呼吸器のまま乗れる車での送迎。",
            explain_en: "Rides in vehicles that take wheelchairs, stretchers or ventilators." },
        EquipmentRental = "equipment_rental" { ja: "医療機器・用具の貸出", en: "Equipment rental", easy: "きかいや どうぐを かす ところ",
            explain_ja: "吸引器やパルスオキシメーターなどの貸出、日常生活用具の給付。",
            explain_en: "Loan of suction units, oximeters and other equipment." },
        PowerSupply = "power_supply" { ja: "災害時の電源供給", en: "Emergency power supply", easy: "ていでんの ときに でんきを かりられる ところ",
            explain_ja: "停電時に人工呼吸器や吸引器の電源を確保できる場所（発電機・蓄電池・EV）。",
            explain_en: "Places that provide power for ventilators and suction during outages." },
        WelfareShelter = "welfare_shelter" { ja: "福祉避難所", en: "Welfare evacuation shelter", easy: "さいがいの ときの ひなんじょ",
            explain_ja: "災害時に配慮が必要な人を受け入れる避難所。", explain_en: "Shelters for people who need care during disasters." },
        FamilySupport = "family_support" { ja: "家族会・ピアサポート", en: "Family & peer support", easy: "かぞくの あつまり",
            explain_ja: "家族会、きょうだい支援、ピアサポート。", explain_en: "Family groups, sibling support and peer support." },
        Program = "program" { ja: "制度・手当・助成", en: "Programs & benefits", easy: "せいど・てあて",
            explain_ja: "手当、医療費助成、日常生活用具給付などの制度。", explain_en: "Allowances, medical subsidies and other public programmes." },
        Training = "training" { ja: "研修", en: "Training", easy: "けんしゅう",
            explain_ja: "喀痰吸引等研修やコーディネーター養成研修など。", explain_en: "Courses such as suction training and coordinator training." },
    }
}

impl Kind {
    /// Whether the kind is a place or service that itself gives a child care (a daycare, a
    /// nurse, a short stay), as opposed to one that advises, lends, trains or pays (a
    /// coordinator, equipment, a course, a benefit). 「医ケア」 before a kind of the second sort
    /// names who it is for, not a care it must take.
    pub fn gives_care(self) -> bool {
        !matches!(
            self,
            Kind::ConsultationSupport
                | Kind::SupportCenter
                | Kind::Coordinator
                | Kind::EquipmentRental
                | Kind::PowerSupply
                | Kind::FamilySupport
                | Kind::Program
                | Kind::Training
        )
    }
}

vocabulary! {
    /// A kind of medical care (医療的ケア), after the items of the 医療的ケア判定スコア.
    CareType, "care type" {
        SuctionOralNasal = "suction_oral_nasal" { ja: "口腔・鼻腔内の吸引（たん吸引）", en: "Oral / nasal suction", easy: "くち・はなの たんの きゅういん",
            explain_ja: "口や鼻からたんを吸引します。研修を受けた職員も行えます。",
            explain_en: "Suctioning secretions from the mouth or nose; trained care staff may do it." },
        SuctionTracheal = "suction_tracheal" { ja: "気管内（カニューレ内）の吸引", en: "Tracheal suction", easy: "きかんの なかの きゅういん",
            explain_ja: "気管カニューレの中からたんを吸引します。", explain_en: "Suctioning through a tracheostomy tube." },
        TubeFeedingNasal = "tube_feeding_nasal" { ja: "経鼻経管栄養", en: "Nasogastric tube feeding", easy: "はなからの チューブで えいよう",
            explain_ja: "鼻から胃へのチューブで栄養を入れます。", explain_en: "Feeding through a tube from the nose to the stomach." },
        Gastrostomy = "gastrostomy" { ja: "胃ろう・腸ろうからの経管栄養", en: "Gastrostomy (G-tube) feeding", easy: "いろう（おなかの チューブ）から えいよう",
            explain_ja: "おなかの胃ろう・腸ろうから栄養を入れます（PEG）。", explain_en: "Feeding through a tube into the stomach or intestine (G-tube, PEG)." },
        Ventilator = "ventilator" { ja: "人工呼吸器の管理", en: "Ventilator", easy: "こきゅうき（じんこう こきゅうき）",
            explain_ja: "人工呼吸器（NPPV・TPPV）の管理。", explain_en: "Care of a home ventilator (mask or tracheostomy)." },
        Oxygen = "oxygen" { ja: "酸素療法（在宅酸素）", en: "Oxygen therapy", easy: "さんそ",
            explain_ja: "酸素ボンベや酸素濃縮器を使った酸素療法（HOT）。", explain_en: "Home oxygen from cylinders or concentrators." },
        Tracheostomy = "tracheostomy" { ja: "気管切開の管理", en: "Tracheostomy", easy: "きせつ（のどの あな）の ケア",
            explain_ja: "気管切開部とカニューレの管理（気切）。", explain_en: "Care of a tracheostomy and its tube." },
        NasopharyngealAirway = "nasopharyngeal_airway" { ja: "鼻咽頭エアウェイの管理", en: "Nasopharyngeal airway", easy: "はなの エアウェイ",
            explain_ja: "鼻から入れるエアウェイの管理。", explain_en: "Care of a nasal airway tube." },
        Nebulizer = "nebulizer" { ja: "ネブライザー（吸入）", en: "Nebulizer", easy: "きゅうにゅう",
            explain_ja: "薬を霧にして吸い込む吸入。", explain_en: "Inhaled medicine by nebulizer." },
        Catheterization = "catheterization" { ja: "導尿", en: "Urinary catheterization", easy: "どうにょう",
            explain_ja: "カテーテルで尿を出します（間欠的導尿 CIC を含む）。", explain_en: "Draining urine with a catheter, including intermittent (CIC)." },
        Insulin = "insulin" { ja: "インスリン注射（皮下注射）", en: "Insulin / subcutaneous injection", easy: "インスリンの ちゅうしゃ",
            explain_ja: "インスリンなどの皮下注射、持続皮下注射ポンプ。", explain_en: "Insulin and other injections under the skin, including pumps." },
        GlucoseMonitoring = "glucose_monitoring" { ja: "血糖測定", en: "Blood glucose monitoring", easy: "けっとうを はかる",
            explain_ja: "血糖値の測定（持続血糖測定 CGM を含む）。", explain_en: "Checking blood sugar, including continuous monitors (CGM)." },
        CentralVenous = "central_venous" { ja: "中心静脈カテーテルの管理", en: "Central venous catheter", easy: "ちゅうしん じょうみゃく の カテーテル",
            explain_ja: "中心静脈栄養（IVH）やCVポートの管理。", explain_en: "Care of a central line for nutrition or medicine (IVH, port)." },
        Dialysis = "dialysis" { ja: "透析（腹膜透析）", en: "Dialysis", easy: "とうせき",
            explain_ja: "腹膜透析などの継続的な透析。", explain_en: "Continuous dialysis such as peritoneal dialysis." },
        Stoma = "stoma" { ja: "人工肛門（ストーマ）・排便管理", en: "Stoma / bowel care", easy: "ストーマ・うんちの ケア",
            explain_ja: "ストーマの管理、摘便や浣腸などの排便管理。", explain_en: "Care of a stoma and bowel management." },
        SeizureMedication = "seizure_medication" { ja: "けいれん時の対応（坐薬など）", en: "Seizure care / rescue medication", easy: "けいれんの ときの くすり",
            explain_ja: "けいれん時の坐薬挿入や吸引、酸素投与などの対応。", explain_en: "Rescue medication (e.g. suppository) and care during seizures." },
        PulseOximetry = "pulse_oximetry" { ja: "パルスオキシメーターによる観察", en: "Pulse oximetry (SpO2)", easy: "さんその かずを はかる",
            explain_ja: "SpO2（血中酸素）の測定と観察。", explain_en: "Monitoring blood oxygen (SpO2)." },
    }
}

vocabulary! {
    /// A day of the week, for nurse schedules and opening hours.
    Weekday, "weekday" {
        Mon = "mon" { ja: "月", en: "Mon", easy: "げつようび", explain_ja: "月曜日", explain_en: "Monday" },
        Tue = "tue" { ja: "火", en: "Tue", easy: "かようび", explain_ja: "火曜日", explain_en: "Tuesday" },
        Wed = "wed" { ja: "水", en: "Wed", easy: "すいようび", explain_ja: "水曜日", explain_en: "Wednesday" },
        Thu = "thu" { ja: "木", en: "Thu", easy: "もくようび", explain_ja: "木曜日", explain_en: "Thursday" },
        Fri = "fri" { ja: "金", en: "Fri", easy: "きんようび", explain_ja: "金曜日", explain_en: "Friday" },
        Sat = "sat" { ja: "土", en: "Sat", easy: "どようび", explain_ja: "土曜日", explain_en: "Saturday" },
        Sun = "sun" { ja: "日", en: "Sun", easy: "にちようび", explain_ja: "日曜日", explain_en: "Sunday" },
    }
}

vocabulary! {
    /// Accessibility features of a place (バリアフリー).
    Accessibility, "accessibility feature" {
        WheelchairAccess = "wheelchair_access" { ja: "車いすで入れる", en: "Wheelchair accessible", easy: "くるまいすで はいれる",
            explain_ja: "段差なく車いすで入れます。", explain_en: "Step-free entrance." },
        Elevator = "elevator" { ja: "エレベーター", en: "Elevator", easy: "エレベーター", explain_ja: "エレベーターがあります。", explain_en: "Has an elevator." },
        AccessibleToilet = "accessible_toilet" { ja: "多目的トイレ", en: "Accessible toilet", easy: "ひろい トイレ",
            explain_ja: "車いすで使えるトイレがあります。", explain_en: "Has a wheelchair-accessible toilet." },
        ChangingBed = "changing_bed" { ja: "大型ベッド（おむつ替え）", en: "Adult-size changing bed", easy: "おおきい ベッド",
            explain_ja: "大きな子どものおむつ替えができるベッドがあります。", explain_en: "Has a changing bed for older children." },
        Parking = "parking" { ja: "駐車場（車いす用）", en: "Accessible parking", easy: "ちゅうしゃじょう",
            explain_ja: "車いす用の駐車スペースがあります。", explain_en: "Has accessible parking." },
        PowerOutlet = "power_outlet" { ja: "医療機器用の電源", en: "Power for medical devices", easy: "きかいの でんき",
            explain_ja: "医療機器の充電に使える電源があります。", explain_en: "Power outlets for medical devices." },
    }
}

vocabulary! {
    /// What a transport service can carry (a filter on transport resources).
    TransportFeature, "transport feature" {
        Wheelchair = "wheelchair" { ja: "車いすのまま乗車", en: "Wheelchair", easy: "くるまいすの まま のれる",
            explain_ja: "車いすに座ったまま乗れる車両。", explain_en: "The child can ride in their wheelchair." },
        Stretcher = "stretcher" { ja: "ストレッチャー", en: "Stretcher", easy: "ねたまま のれる",
            explain_ja: "横になったまま乗れる車両。", explain_en: "Lying down on a stretcher." },
        VentilatorOnboard = "ventilator_onboard" { ja: "人工呼吸器を使用したまま乗車", en: "Ventilator on board", easy: "こきゅうきを つけたまま のれる",
            explain_ja: "人工呼吸器を使いながら乗れます（電源あり）。", explain_en: "A ventilator can run on board." },
        EscortNurse = "escort_nurse" { ja: "看護師の同乗", en: "Escort nurse", easy: "かんごしが いっしょに のる",
            explain_ja: "看護師が同乗できます。", explain_en: "A nurse can ride along." },
    }
}

vocabulary! {
    /// A certificate or condition a programme may require (手帳・受給者証など).
    Certificate, "certificate" {
        PhysicalDisability = "physical_disability" { ja: "身体障害者手帳", en: "Physical disability certificate", easy: "しんたい しょうがいしゃ てちょう",
            explain_ja: "身体障害者手帳（等級は制度の説明を確認してください）。", explain_en: "The physical disability certificate (check the programme for the grade)." },
        Ryoiku = "ryoiku" { ja: "療育手帳", en: "Ryoiku techo (intellectual disability)", easy: "りょういく てちょう",
            explain_ja: "知的障害のある人の療育手帳。", explain_en: "The certificate for intellectual disability." },
        SevereMotorIntellectual = "severe_motor_intellectual" { ja: "重症心身障害", en: "Severe motor and intellectual disabilities", easy: "じゅうしょう しんしん しょうがい",
            explain_ja: "重度の肢体不自由と重度の知的障害が重なった状態（重症心身障害児）。", explain_en: "Severe physical and intellectual disabilities together (juushin)." },
        PediatricChronic = "pediatric_chronic" { ja: "小児慢性特定疾病医療受給者証", en: "Pediatric chronic disease certificate", easy: "こどもの ながい びょうきの じゅきゅうしゃしょう",
            explain_ja: "小児慢性特定疾病の医療費助成を受けている子の受給者証。", explain_en: "The certificate of the pediatric chronic specified disease subsidy." },
        MedicalCareScore = "medical_care_score" { ja: "医療的ケア判定スコアの基準を満たす", en: "Meets the medical care score", easy: "いりょうてきケアの てんすうが きじゅんいじょう",
            explain_ja: "医療的ケア判定スコアが制度の基準以上であること。", explain_en: "The child's medical care score meets the programme's threshold." },
    }
}

vocabulary! {
    /// Who a training course is for (研修の対象).
    Audience, "audience" {
        NurseryTeacher = "nursery_teacher" { ja: "保育士", en: "Nursery teachers", easy: "ほいくし",
            explain_ja: "保育所・認定こども園の保育士。", explain_en: "Staff of daycare and nurseries." },
        Teacher = "teacher" { ja: "教員", en: "Teachers", easy: "がっこうの せんせい",
            explain_ja: "学校・特別支援学校の教員。", explain_en: "School and special-needs school teachers." },
        Nurse = "nurse" { ja: "看護師", en: "Nurses", easy: "かんごし",
            explain_ja: "看護師（学校・保育所・訪問看護など）。", explain_en: "Nurses in schools, nurseries and home nursing." },
        Helper = "helper" { ja: "ヘルパー・介護職員", en: "Care workers", easy: "ヘルパー",
            explain_ja: "ヘルパー、介護職員、障害福祉サービスの職員。", explain_en: "Home helpers and care workers." },
        Family = "family" { ja: "家族", en: "Families", easy: "かぞく",
            explain_ja: "医療的ケア児のご家族。", explain_en: "Families of children who need medical care." },
        Coordinator = "coordinator" { ja: "コーディネーター・相談支援専門員", en: "Coordinators", easy: "コーディネーター",
            explain_ja: "医療的ケア児等コーディネーター、相談支援専門員。", explain_en: "Medical care coordinators and consultation support staff." },
    }
}

vocabulary! {
    /// The type of a training course (研修の種類).
    CourseType, "course type" {
        Kakutan1 = "kakutan_1" { ja: "喀痰吸引等研修（第1号）", en: "Suction and tube feeding training, type 1", easy: "たんの きゅういんの けんしゅう（1ごう）",
            explain_ja: "不特定の人に、たん吸引5行為と経管栄養を行うための研修。", explain_en: "For all suction and tube feeding acts, for any person." },
        Kakutan2 = "kakutan_2" { ja: "喀痰吸引等研修（第2号）", en: "Suction and tube feeding training, type 2", easy: "たんの きゅういんの けんしゅう（2ごう）",
            explain_ja: "不特定の人に、気管カニューレ内吸引などを除く行為を行うための研修。", explain_en: "For some acts (not tracheal suction), for any person." },
        Kakutan3 = "kakutan_3" { ja: "喀痰吸引等研修（第3号）", en: "Suction and tube feeding training, type 3", easy: "たんの きゅういんの けんしゅう（3ごう）",
            explain_ja: "特定の子ども（利用者）に必要な行為を行うための研修。保育士・教員に多い研修です。", explain_en: "For the acts one particular child needs; common for nursery staff and teachers." },
        Supporter = "supporter" { ja: "医療的ケア児等支援者養成研修", en: "Supporter training", easy: "しえんする ひとの けんしゅう",
            explain_ja: "医療的ケア児を支える人のための基礎の研修。", explain_en: "Basic training for people who support children with medical care." },
        CoordinatorCourse = "coordinator_course" { ja: "医療的ケア児等コーディネーター養成研修", en: "Coordinator training", easy: "コーディネーターの けんしゅう",
            explain_ja: "医療的ケア児等コーディネーターになるための研修。", explain_en: "Training to become a medical care coordinator." },
        Basics = "basics" { ja: "基礎知識の研修", en: "Basics", easy: "きほんの けんしゅう",
            explain_ja: "保育士や教員が医療的ケアの基本を学ぶ研修・講座。", explain_en: "Introductory sessions for nursery staff and teachers." },
    }
}

vocabulary! {
    /// A medical device a family brings to a power point (持参する医療機器).
    Device, "device" {
        Ventilator = "ventilator" { ja: "人工呼吸器", en: "Ventilator", easy: "こきゅうき",
            explain_ja: "在宅用の人工呼吸器。", explain_en: "A home ventilator." },
        Suction = "suction" { ja: "吸引器", en: "Suction unit", easy: "きゅういんき",
            explain_ja: "たんを吸引する器械。", explain_en: "A suction machine." },
        OxygenConcentrator = "oxygen_concentrator" { ja: "酸素濃縮器", en: "Oxygen concentrator", easy: "さんその きかい",
            explain_ja: "在宅酸素療法の酸素濃縮器。", explain_en: "A home oxygen concentrator." },
        FeedingPump = "feeding_pump" { ja: "経腸栄養ポンプ", en: "Feeding pump", easy: "えいようの ポンプ",
            explain_ja: "経管栄養の注入ポンプ。", explain_en: "An enteral feeding pump." },
        PulseOximeter = "pulse_oximeter" { ja: "パルスオキシメーター", en: "Pulse oximeter", easy: "さんその かずを はかる きかい",
            explain_ja: "SpO2を測る器械（充電）。", explain_en: "A pulse oximeter (charging)." },
    }
}

/// A set of care types as a bitset: compact, ordered, cheap to intersect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CareSet(u32);

impl CareSet {
    pub const EMPTY: CareSet = CareSet(0);

    pub fn from_bits(bits: u32) -> CareSet {
        let mask = (1u32 << CareType::ALL.len()) - 1;
        CareSet(bits & mask)
    }
    pub fn bits(self) -> u32 {
        self.0
    }
    pub fn contains(self, c: CareType) -> bool {
        self.0 & (1 << c.index()) != 0
    }
    pub fn insert(&mut self, c: CareType) {
        self.0 |= 1 << c.index();
    }
    pub fn remove(&mut self, c: CareType) {
        self.0 &= !(1 << c.index());
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// True when every care type of `other` is in `self`.
    pub fn contains_all(self, other: CareSet) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn intersection(self, other: CareSet) -> CareSet {
        CareSet(self.0 & other.0)
    }
    pub fn union(self, other: CareSet) -> CareSet {
        CareSet(self.0 | other.0)
    }
    pub fn difference(self, other: CareSet) -> CareSet {
        CareSet(self.0 & !other.0)
    }
    pub fn iter(self) -> impl Iterator<Item = CareType> {
        CareType::ALL.iter().copied().filter(move |c| self.contains(*c))
    }
}

impl FromIterator<CareType> for CareSet {
    fn from_iter<I: IntoIterator<Item = CareType>>(iter: I) -> Self {
        let mut s = CareSet::EMPTY;
        for c in iter {
            s.insert(c);
        }
        s
    }
}

impl Serialize for CareSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for CareSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<CareType> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_has_labels_in_both_languages() {
        for k in Kind::ALL {
            let l = k.labels();
            assert!(!l.ja.is_empty() && !l.en.is_empty() && !l.easy_ja.is_empty(), "{k}");
            assert_eq!(k.code().parse::<Kind>().unwrap(), *k);
        }
        for c in CareType::ALL {
            let l = c.labels();
            assert!(!l.ja.is_empty() && !l.en.is_empty() && !l.explain_en.is_empty(), "{c}");
            assert_eq!(c.code().parse::<CareType>().unwrap(), *c);
        }
        assert!(CareType::ALL.len() <= 32, "CareSet is a u32 bitset");
    }

    #[test]
    fn unknown_code_suggests_the_closest_and_lists_allowed() {
        let e = "suction_oral_nasel".parse::<CareType>().unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("suction_oral_nasal"));
        assert!(e.allowed.contains(&"ventilator"));
        let msg = e.to_string();
        assert!(msg.contains("unknown care type `suction_oral_nasel`"), "{msg}");
        assert!(msg.contains("did you mean `suction_oral_nasal`"), "{msg}");
        assert_eq!("xyzzy-nothing".parse::<Kind>().unwrap_err().suggestion, None);
    }

    #[test]
    fn care_set_round_trips_through_json_in_vocabulary_order() {
        let s: CareSet = [CareType::Ventilator, CareType::SuctionOralNasal].into_iter().collect();
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(j, r#"["suction_oral_nasal","ventilator"]"#);
        let back: CareSet = serde_json::from_str(&j).unwrap();
        assert_eq!(back, s);
        assert!(serde_json::from_str::<CareSet>(r#"["suction"]"#).is_err());
    }
}
