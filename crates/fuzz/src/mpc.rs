//! Fuzz targets of trustspace-mpc's decoders: the transport's deframer, the parties' mesh frames
//! and session views, the client/party wire messages (JSON control messages, share frames,
//! engine messages, the listener's verdict, the recipient's reveal of the output), the SQL front
//! end and the network configurations.
//!
//! The wire decoders that are internal to the party and client implementations come from
//! `trustspace_mpc::fuzzing` (a hidden module: they are protocol details, not API); the others
//! are the crate's public API.

use std::path::Path;
use std::sync::LazyLock;

use trustspace_data::Schema;
use trustspace_mpc::error::{Check, MpcError, Peer};
use trustspace_mpc::fuzzing::{
    Control, Deframer, Verdict, decode_control, decode_shares, decode_words, encode_control,
    encode_shares, encode_words, read_verdict, refusal_frame, reprint_sql,
};
use trustspace_mpc::partial;
use trustspace_mpc::query::{self, Strategy};
use trustspace_mpc::service::session::{MeshMsg, SessionId, View};
use trustspace_mpc::share::{Kind, Shares};
use trustspace_mpc::sql::{self, Agg, Having, Operand, Output, Plan, Pred, domain};
use trustspace_mpc::transport::MAX_MESSAGE;
use trustspace_mpc::transport::tls::{ClientLinkConfig, PartyConfig};

use crate::Target;
use crate::props::{canonical, round_trips};

/// This crate's targets.
pub(crate) const TARGETS: &[Target] = &[
    Target {
        name: "mpc_deframer",
        about: "the TLS transport's deframer (u32 LE length + bytes), fed in input-derived pieces: \
                frames equal a reference parse, an oversize header is refused",
        run: deframer,
    },
    Target {
        name: "mpc_session_view",
        about: "a party's session view (query digest, joins): canonical",
        run: session_view,
    },
    Target {
        name: "mpc_mesh_msg",
        about: "a frame on the parties' mesh (data, hello, abort, ack, ping): canonical",
        run: mesh_msg,
    },
    Target {
        name: "mpc_wire_control",
        about: "a JSON control message between clients and parties (join with its query spec, \
                session, contribution, output, done, contested, error): round-trips; a join's \
                query is checked and planned",
        run: wire_control,
    },
    Target {
        name: "mpc_wire_shares",
        about: "a share frame (session tag, two ring components per element) of a holder's \
                contribution or a party's output: canonical",
        run: wire_shares,
    },
    Target {
        name: "mpc_wire_words",
        about: "an engine message of ring elements between parties: canonical",
        run: wire_words,
    },
    Target {
        name: "mpc_wire_verdict",
        about: "the listener's verdict frame after the TLS handshake: a refusal round-trips, \
                other text comes back sanitized",
        run: wire_verdict,
    },
    Target {
        name: "mpc_wire_output",
        about: "a recipient's reveal of the output words for fixed queries (open_output, then \
                the result table): tampered replicas are caught, accepted output is well formed",
        run: wire_output,
    },
    Target {
        name: "mpc_sql",
        about: "the SQL front end: a query text parsed and planned against a fixed schema; the \
                plan is well formed, its range checks hold for any row count, and the reprinted \
                text plans the same",
        run: sql_plan,
    },
    Target {
        name: "mpc_config",
        about: "a party's or client's network configuration (JSON) from bytes: round-trips",
        run: config,
    },
];

/// Inputs longer than this are skipped (every decoder's own limit is at least as high).
const MAX_INPUT: usize = 64 * 1024;

/// The schema the SQL and reveal targets plan against: every column type, a bounded `int`, a
/// 64-bit `int` (range checks at the edge), two categoricals and an HHI key.
const SCHEMA_TOML: &str = r#"name = "t"
[[columns]]
name = "grp"
type = "categorical"
values = ["a", "b", "c"]
[[columns]]
name = "level"
type = "categorical"
values = ["low", "mid", "high"]
[[columns]]
name = "x"
type = "int"
bits = 32
min = -1000
max = 1000
[[columns]]
name = "amount"
type = "decimal"
scale = 2
bits = 40
signed = true
[[columns]]
name = "flag"
type = "bool"
[[columns]]
name = "day"
type = "date"
[[columns]]
name = "ts"
type = "timestamp"
[[columns]]
name = "n"
type = "uint"
bits = 16
[[columns]]
name = "key"
type = "uint"
bits = 8
max = 15
[[columns]]
name = "big"
type = "int"
bits = 64
"#;

static SCHEMA: LazyLock<Schema> =
    LazyLock::new(|| Schema::from_toml(SCHEMA_TOML, "fuzz.schema.toml").expect("fixture schema"));

/// The reveal target's queries (its input's first byte picks one): every aggregate's formatting,
/// GROUP BY over a categorical and a bool, HAVING, ORDER BY ... LIMIT.
const OUTPUT_QUERIES: [&str; 5] = [
    "SELECT COUNT(*) AS n, SUM(x) AS s, AVG(amount) AS a FROM t",
    "SELECT grp, MIN(x) AS lo, MAX(day) AS last, VAR(amount) AS v, STDDEV_POP(x) AS sd \
     FROM t GROUP BY grp",
    "SELECT flag, SUM(amount) AS total FROM t GROUP BY flag HAVING COUNT(*) > 1 \
     ORDER BY SUM(amount) DESC LIMIT 1",
    "SELECT HHI(n, key, 16, 1) AS hhi, MIN(ts) AS first FROM t",
    "SELECT grp, COUNT(DISTINCT level) AS kinds, MAX(big) AS top FROM t GROUP BY grp",
];

static OUTPUT_PLANS: LazyLock<Vec<Plan>> = LazyLock::new(|| {
    OUTPUT_QUERIES
        .iter()
        .map(|q| sql::plan(q, &SCHEMA).expect("fixture query"))
        .collect()
});

/// The session the share-frame target's frames are bound to.
const SESSION: SessionId = SessionId([0xA5; 32]);

/// Where the configuration target's configurations come from (relative paths resolve against
/// its directory, so a resolved configuration is absolute and resolves to itself).
const CONFIG_ORIGIN: &str = "/etc/trustspace/mpc.json";

/// The frames of a complete stream, parsed in one piece: the frames before the first header
/// over [`MAX_MESSAGE`] (and that header's length), an incomplete tail ignored.
fn reference_frames(mut s: &[u8]) -> (Vec<Vec<u8>>, Option<usize>) {
    let mut frames = Vec::new();
    while s.len() >= 4 {
        let len = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize;
        if len > MAX_MESSAGE {
            return (frames, Some(len));
        }
        if s.len() - 4 < len {
            break;
        }
        frames.push(s[4..4 + len].to_vec());
        s = &s[4 + len..];
    }
    (frames, None)
}

/// The first two bytes seed the piece sizes (1 byte to 4 KiB, as TLS records split a stream);
/// the rest is the stream.
fn deframer(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let (seed, stream) = input.split_at(input.len().min(2));
    let mut state = (u32::from_le_bytes([
        seed.first().copied().unwrap_or(0),
        seed.get(1).copied().unwrap_or(0),
        0,
        0,
    ]) << 8)
        | 0x5e;
    let (want, oversize) = reference_frames(stream);
    let mut d = Deframer::default();
    let mut frames = Vec::new();
    let mut refused = None;
    let mut rest = stream;
    while !rest.is_empty() {
        // xorshift32: the piece sizes, reproducible from the input alone.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let size = match state % 4 {
            0 => 1,
            1 => 2 + (state >> 8) as usize % 6,
            2 => 1 + (state >> 8) as usize % 64,
            _ => 1 + (state >> 8) as usize % 4096,
        };
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        if let Err(e) = d.push(piece, &mut frames) {
            refused = Some(e.len);
            break;
        }
    }
    assert_eq!(
        frames, want,
        "deframer: the frames differ from a parse of the whole stream"
    );
    assert_eq!(
        refused, oversize,
        "deframer: an oversize header is refused exactly when the stream has one"
    );
}

fn session_view(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    if let Ok(view) = View::decode(input, &Peer::Party(1)) {
        canonical("session view", input, &view.encode());
        assert_eq!(view.differences(&view, "party-1"), "identical views");
        let _ = view.id();
    }
}

fn mesh_msg(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    if let Ok(m) = MeshMsg::decode(input.to_vec(), &Peer::Party(2)) {
        canonical("mesh frame", input, &m.encode());
    }
}

/// A hex session identifier or nonce as the parties and clients read it: accepted text names
/// the identifier whose hex it is (in either case).
fn hex_id(s: &str) {
    if let Some(id) = SessionId::from_hex(s) {
        assert!(
            id.to_hex().eq_ignore_ascii_case(s),
            "session id: {s:?} read as {}",
            id.to_hex()
        );
        assert_eq!(SessionId::from_hex(&id.to_hex()), Some(id));
    }
}

fn wire_control(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let peer = Peer::Client("hospital-a".into());
    let Ok(c) = decode_control(input, &peer) else {
        return;
    };
    round_trips("control message", &c, encode_control, |b| {
        decode_control(b, &peer)
    });
    match &c {
        Control::Join { query, nonce, .. } => {
            // What a party does with a join: the nonce, the query's checks and plan.
            hex_id(nonce);
            let _ = query.digest();
            let _ = query.participants();
            if let Ok((schema, plan)) = query.check() {
                check_plan(&schema, &plan);
            }
        }
        Control::Session { session, joins } => {
            hex_id(session);
            for (_, nonce) in joins {
                hex_id(nonce);
            }
        }
        Control::Contribution { session, .. }
        | Control::Output { session, .. }
        | Control::Done { session } => hex_id(session),
        Control::Contested { .. } | Control::Error { .. } => {}
    }
}

fn wire_shares(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let peer = Peer::Client("hospital-a".into());
    // The length the control message announced: the frame's own, one more, or absurd.
    let fits = input.len().saturating_sub(32) / 16;
    for len in [fits, fits + 1, usize::MAX / 8] {
        if let Ok(s) = decode_shares(&SESSION, input, len, &peer) {
            assert!(
                s.kind == Kind::Arithmetic && s.a.len() == len && s.b.len() == len,
                "share frame: {len} elements announced, {} and {} decoded",
                s.a.len(),
                s.b.len()
            );
            canonical("share frame", input, &encode_shares(&SESSION, &s));
        }
    }
}

fn wire_words(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let fits = input.len() / 8;
    for n in [fits, fits + 1, usize::MAX / 4, usize::MAX] {
        if let Ok(words) = decode_words(input, n, 1) {
            assert_eq!(words.len(), n, "engine message: {n} elements expected");
            canonical("engine message", input, &encode_words(&words));
        }
    }
}

/// Text read from a frame: printable ASCII, at most 200 characters.
fn sanitized(text: &str) {
    assert!(
        text.len() <= 200 && text.bytes().all(|b| b.is_ascii_graphic() || b == b' '),
        "verdict: unsanitized text {text:?}"
    );
}

fn wire_verdict(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    match read_verdict(input) {
        Verdict::Ok => canonical("verdict", input, b"ok"),
        Verdict::Refused(r, reason) => {
            sanitized(&reason);
            round_trips(
                "refusal frame",
                &Verdict::Refused(r, reason.clone()),
                |v| match v {
                    Verdict::Refused(r, reason) => refusal_frame(*r, reason),
                    other => panic!("not a refusal: {other:?}"),
                },
                |frame| Ok::<_, ()>(read_verdict(frame)),
            );
        }
        Verdict::Garbled(text) => sanitized(&text),
    }
}

/// Byte 0 picks a query, byte 1's low bit asks for one replica to be altered (byte 1's other
/// bits pick the word); the rest are the output words, shared as `(words, 0, 0)`.
fn wire_output(input: &[u8]) {
    if input.len() < 2 || input.len() > MAX_INPUT {
        return;
    }
    let plans = &*OUTPUT_PLANS;
    let plan = &plans[usize::from(input[0]) % plans.len()];
    let tamper = input[1];
    let words: Vec<u64> = input[2..]
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let n = words.len();
    let zeros = vec![0u64; n];
    let share = |a: &[u64], b: &[u64]| Shares {
        kind: Kind::Arithmetic,
        a: a.to_vec(),
        b: b.to_vec(),
    };
    let mut parts = [
        share(&words, &zeros),
        share(&zeros, &zeros),
        share(&zeros, &words),
    ];
    let altered = tamper & 1 == 1 && n > 0;
    if altered {
        parts[2].b[usize::from(tamper >> 1) % n] ^= 1;
    }
    match query::open_output(plan, &SCHEMA, &parts) {
        Ok(opened) => {
            assert!(!altered, "reveal: an altered replica was not caught");
            let groups = partial::groups(plan, &SCHEMA);
            let mut seen = vec![false; groups];
            for g in &opened.groups {
                assert!(g.group < groups, "reveal: group {} of {groups}", g.group);
                assert!(!seen[g.group], "reveal: group {} twice", g.group);
                seen[g.group] = true;
                assert_eq!(g.values.len(), plan.aggs.len(), "reveal: values per group");
            }
            if let Ok(table) = query::format(plan, &SCHEMA, &opened) {
                assert_eq!(table.rows.len(), opened.groups.len(), "result: rows");
                assert!(
                    table.rows.iter().all(|r| r.len() == plan.outputs.len()),
                    "result: a row without one value per output column"
                );
            }
        }
        Err(MpcError::CheatingDetected { check, .. }) => {
            assert_eq!(check, Check::Output, "reveal: the check that failed");
        }
        Err(e) => assert!(!altered, "reveal: an altered replica refused as {e:?}"),
    }
}

/// Checks a predicate of a plan: columns in range, literals compared with a column, `IN` lists
/// sorted and distinct, no constant left inside.
fn check_pred(schema: &Schema, p: &Pred) {
    let cols = schema.columns().len();
    match p {
        Pred::Cmp(_, a, b) => {
            assert!(
                matches!(a, Operand::Col(_)) || matches!(b, Operand::Col(_)),
                "plan: a comparison of two literals: {p:?}"
            );
            for o in [a, b] {
                if let Operand::Col(c) = o {
                    assert!(*c < cols, "plan: column {c}");
                }
            }
        }
        Pred::In(c, vals, _) => {
            assert!(*c < cols, "plan: column {c}");
            assert!(
                !vals.is_empty() && vals.windows(2).all(|w| w[0] < w[1]),
                "plan: IN list not sorted, distinct and non-empty: {vals:?}"
            );
        }
        Pred::And(x, y) | Pred::Or(x, y) => {
            check_pred(schema, x);
            check_pred(schema, y);
        }
        Pred::Not(x) => check_pred(schema, x),
        Pred::Const(_) => panic!("plan: a constant inside a predicate: {p:?}"),
    }
}

fn check_having(aggs: usize, h: &Having) {
    match h {
        Having::Cmp(_, i, _) => assert!(*i < aggs, "plan: HAVING on aggregate {i} of {aggs}"),
        Having::And(x, y) | Having::Or(x, y) => {
            check_having(aggs, x);
            check_having(aggs, y);
        }
        Having::Not(x) => check_having(aggs, x),
    }
}

/// Checks a plan's structure and runs what a party runs on it before any share moves: the
/// range checks for any row count a holder may announce, the inputs and the vector layout.
fn check_plan(schema: &Schema, plan: &Plan) {
    let cols = schema.columns().len();
    let aggs = plan.aggs.len();
    assert!(!plan.outputs.is_empty(), "plan: no outputs");
    for (o, _) in &plan.outputs {
        match o {
            Output::Agg(i) => assert!(*i < aggs, "plan: output of aggregate {i} of {aggs}"),
            Output::GroupKey => assert!(plan.group_by.is_some(), "plan: a key without GROUP BY"),
        }
    }
    for (i, a) in plan.aggs.iter().enumerate() {
        assert!(
            !plan.aggs[..i].contains(a),
            "plan: aggregate {a:?} listed twice"
        );
        if let Some(c) = a.column() {
            assert!(c < cols, "plan: column {c}");
        }
        if let Agg::Hhi {
            key, unit, keys, ..
        } = a
        {
            assert!(*key < cols && *unit >= 1 && *keys >= 1, "plan: {a:?}");
        }
    }
    if let Some(g) = plan.group_by {
        assert!(g < cols && domain(schema, g) > 0, "plan: GROUP BY {g}");
    }
    match &plan.filter {
        None | Some(Pred::Const(false)) => {}
        Some(p) => check_pred(schema, p),
    }
    if let Some(h) = &plan.having {
        check_having(aggs, h);
    }
    if let Some((i, _)) = plan.order {
        assert!(
            i < aggs && plan.aggs[i].func().rankable() && plan.group_by.is_some(),
            "plan: ORDER BY aggregate {i}"
        );
    }
    assert!(
        plan.limit.is_none() || plan.order.is_some(),
        "plan: LIMIT without ORDER BY"
    );
    for rows in [0, 1, 2, 1000, 1 << 40, usize::MAX] {
        let _ = query::check_ranges(plan, schema, rows);
    }
    let _ = query::inputs(plan, schema);
    let _ = partial::layout(plan, schema);
    for strategy in [Strategy::Partials, Strategy::Rows] {
        let _ = query::expected_lengths(plan, schema, strategy, 3);
    }
}

fn sql_plan(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let schema = &*SCHEMA;
    let Ok(plan) = sql::plan(text, schema) else {
        return;
    };
    check_plan(schema, &plan);
    let again = reprint_sql(text).expect("a query that plans parses");
    match sql::plan(&again, schema) {
        Ok(p) => assert_eq!(p, plan, "sql: {again:?} plans differently from {text:?}"),
        Err(e) => panic!("sql: {text:?} plans, its reprint {again:?} does not: {e}"),
    }
}

fn config(input: &[u8]) {
    if input.len() > MAX_INPUT {
        return;
    }
    let origin = Path::new(CONFIG_ORIGIN);
    if let Ok(c) = PartyConfig::from_bytes(input, origin) {
        round_trips(
            "party configuration",
            &c,
            |c| c.to_json().expect("paths from JSON are UTF-8"),
            |text| PartyConfig::from_bytes(text.as_bytes(), origin),
        );
    }
    if let Ok(c) = ClientLinkConfig::from_bytes(input, origin) {
        round_trips(
            "client configuration",
            &c,
            |c| c.to_json().expect("paths from JSON are UTF-8"),
            |text| ClientLinkConfig::from_bytes(text.as_bytes(), origin),
        );
    }
}
