//! The README's examples run as written, as doc tests do: every `curl` that reads from the server
//! (GET, no key) is parsed as a shell would, must be a valid request as written (no raw spaces in
//! the URL), and is sent to a server on the bundled data; where the README shows its output (a
//! JSON line after it in the same block, or the JSON block right after), every value shown must
//! be in the real answer: objects by key, arrays as a prefix, numbers and text exactly.

use crate::common;

use serde_json::Value;

/// A shell-like split of one command line: single and double quotes, `#` comments.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            quote @ ('\'' | '"') => {
                in_word = true;
                cur.extend(chars.by_ref().take_while(|&c| c != quote));
            }
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

struct Example {
    line: usize,
    command: String,
    /// Path and query as curl sends them.
    target: String,
    shown: Option<Value>,
}

/// The path and query a curl command line requests, or `None` when it is not a keyless GET to
/// the local server; `Err` when curl would refuse it as written.
fn target_of(command: &str) -> Option<Result<String, String>> {
    let w = words(command);
    if w.first().map(String::as_str) != Some("curl") {
        return None;
    }
    if w.iter().any(|a| a == "-X" || a == "-H" || a.starts_with("--data-binary") || a == "-d") {
        return None;
    }
    let mut url = None;
    let mut data = Vec::new();
    let mut it = w.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-s" | "-G" | "-i" | "-sS" => {}
            "--data-urlencode" => data.push(it.next()?.clone()),
            a if a.starts_with("localhost:8080") => url = Some(a.to_string()),
            _ => {}
        }
    }
    let url = url?;
    // curl refuses a URL with whitespace ("URL using bad/illegal format").
    if command.contains('\'') && url.chars().any(char::is_whitespace) {
        return Some(Err(format!("the URL `{url}` has a raw space; use -G --data-urlencode")));
    }
    let mut target = url.trim_start_matches("localhost:8080").to_string();
    // Non-ASCII bytes go as they are; percent-encode them here as the server decodes them.
    target = target.bytes().map(|b| if b.is_ascii() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    for d in data {
        let (k, v) = d.split_once('=').unwrap_or(("", d.as_str()));
        let v: String = form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20");
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(&format!("{k}={v}"));
    }
    Some(Ok(target))
}

fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with("```sh") {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && !lines[end].starts_with("```") {
            end += 1;
        }
        // A command continued with `\` is one line.
        let mut joined: Vec<String> = Vec::new();
        let mut open = false;
        for l in &lines[start..end] {
            match (open, joined.last_mut()) {
                (true, Some(last)) => {
                    last.pop();
                    last.push_str(l.trim_start());
                }
                _ => joined.push(l.to_string()),
            }
            open = joined.last().is_some_and(|l| l.ends_with('\\'));
        }
        let block: Vec<&str> = joined.iter().map(String::as_str).collect();
        let curls: Vec<usize> = (0..block.len()).filter(|&k| block[k].trim_start().starts_with("curl ")).collect();
        for (n, &k) in curls.iter().enumerate() {
            let Some(target) = target_of(block[k]) else { continue };
            let target = target.unwrap_or_else(|e| panic!("README line {}: {e}", start + k + 1));
            // Shown output: a JSON line after it in the block, else the JSON block that follows
            // when this is the block's last command.
            let inline = block.get(k + 1).filter(|l| l.trim_start().starts_with('{'));
            let shown = match inline {
                Some(l) => Some(l.to_string()),
                None if n + 1 == curls.len() && lines.get(end + 1).is_some_and(|l| l.starts_with("```json")) => {
                    let body_end = (end + 2..lines.len()).find(|&j| lines[j].starts_with("```")).unwrap();
                    Some(lines[end + 2..body_end].join("\n"))
                }
                None => None,
            };
            let shown = shown.map(|text| {
                serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("README line {}: the shown output is not JSON ({e}):\n{text}", start + k + 1)
                })
            });
            out.push(Example { line: start + k + 1, command: block[k].trim().to_string(), target, shown });
        }
        i = end + 1;
    }
    out
}

/// Where `shown` is not in `actual`, with the path to it.
fn mismatch(shown: &Value, actual: &Value, path: &str) -> Option<String> {
    match (shown, actual) {
        (Value::Object(s), Value::Object(a)) => s.iter().find_map(|(k, v)| match a.get(k) {
            Some(av) => mismatch(v, av, &format!("{path}/{k}")),
            None => Some(format!("{path}/{k}: not in the answer")),
        }),
        (Value::Array(s), Value::Array(a)) => {
            if s.len() > a.len() {
                return Some(format!("{path}: {} items shown, {} in the answer", s.len(), a.len()));
            }
            s.iter().zip(a).enumerate().find_map(|(i, (sv, av))| mismatch(sv, av, &format!("{path}/{i}")))
        }
        (Value::Number(s), Value::Number(a)) => {
            let (s, a) = (s.as_f64().unwrap(), a.as_f64().unwrap());
            ((s - a).abs() > 1e-9).then(|| format!("{path}: shown {s}, answer {a}"))
        }
        (s, a) => (s != a).then(|| format!("{path}: shown {s}, answer {a}")),
    }
}

#[test]
fn every_readme_example_runs_as_written_and_its_output_still_holds() {
    let readme = include_str!("../README.md");
    let found = examples(readme);
    assert!(found.len() >= 12, "only {} examples found", found.len());
    let with_output = found.iter().filter(|e| e.shown.is_some()).count();
    assert!(with_output >= 10, "only {with_output} examples show their output");
    let server = common::start(&[]);
    let mut failures = Vec::new();
    for e in &found {
        let reply = server.get(&e.target);
        if let Some(shown) = &e.shown {
            if let Some(m) = mismatch(shown, &reply.body, "") {
                failures.push(format!("README line {}: `{}`\n  {m}", e.line, e.command));
            }
        } else if reply.status >= 500 {
            failures.push(format!("README line {}: `{}` answered {}", e.line, e.command, reply.status));
        }
    }
    println!("{} README examples run, {with_output} with their output checked", found.len());
    assert!(
        failures.is_empty(),
        "{} of {} examples no longer hold:\n{}",
        failures.len(),
        found.len(),
        failures.join("\n")
    );
}

#[test]
fn the_curl_parser_reads_commands_as_a_shell_does() {
    assert_eq!(words("curl -s 'a b' \"c d\" e # f"), ["curl", "-s", "a b", "c d", "e"]);
    assert_eq!(
        target_of("curl -s -G localhost:8080/v1/search --data-urlencode 'q=たん 吸引' --data-urlencode limit=3"),
        Some(Ok("/v1/search?q=%E3%81%9F%E3%82%93%20%E5%90%B8%E5%BC%95&limit=3".into()))
    );
    assert!(matches!(target_of("curl -s 'localhost:8080/v1/search?q=a b'"), Some(Err(_))));
    assert_eq!(target_of("curl -X POST localhost:8080/v1/resources"), None);
    assert_eq!(target_of("curl localhost:8080/v1/resources/$ID/history -H \"Authorization: Bearer $KEY\""), None);
}
