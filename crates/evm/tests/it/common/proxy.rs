//! A lying RPC: a loopback JSON-RPC proxy that forwards to a real node and rewrites some answers.

use serde_json::Value;
use std::sync::Arc;
use std::thread::JoinHandle;

/// How the proxy lies.
#[derive(Clone, Copy, Debug)]
pub enum Lie {
    /// Changes the first storage value in eth_getProof (keeping its proof).
    StorageValue,
    /// Drops the last node of the first storage proof.
    StorageProof,
    /// Changes the account's storage root in eth_getProof.
    StorageRoot,
    /// Changes the state root of every header (keeping the claimed hash).
    HeaderStateRoot,
    /// Changes the state root and recomputes nothing else but the claimed hash field, so the
    /// header is self-consistent but not the trusted block.
    HeaderForgedConsistently,
}

/// A running proxy; stops on drop.
pub struct Proxy {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    /// Its URL.
    pub url: String,
}

fn bump_hex_word(s: &str) -> String {
    let mut b = hex::decode(s.trim_start_matches("0x")).unwrap();
    let last = b.len() - 1;
    b[last] ^= 1;
    format!("0x{}", hex::encode(b))
}

fn rewrite(lie: Lie, method: &str, v: &mut Value) {
    let r = &mut v["result"];
    match (lie, method) {
        (Lie::StorageValue, "eth_getProof") => {
            let p = &mut r["storageProof"][0]["value"];
            *p = Value::String("0x1234".into());
        }
        (Lie::StorageProof, "eth_getProof") => {
            r["storageProof"][0]["proof"].as_array_mut().unwrap().pop();
        }
        (Lie::StorageRoot, "eth_getProof") => {
            let h = r["storageHash"].as_str().unwrap().to_string();
            r["storageHash"] = Value::String(bump_hex_word(&h));
        }
        (Lie::HeaderStateRoot, "eth_getBlockByHash" | "eth_getBlockByNumber") => {
            let h = r["stateRoot"].as_str().unwrap().to_string();
            r["stateRoot"] = Value::String(bump_hex_word(&h));
        }
        (Lie::HeaderForgedConsistently, "eth_getBlockByHash" | "eth_getBlockByNumber") => {
            let h = r["stateRoot"].as_str().unwrap().to_string();
            r["stateRoot"] = Value::String(bump_hex_word(&h));
            let header: alloy_rpc_types_eth::Header = serde_json::from_value(r.clone()).unwrap();
            r["hash"] = Value::String(format!("{}", header.inner.hash_slow()));
        }
        _ => {}
    }
}

impl Proxy {
    /// Starts a proxy to `upstream` that tells `lie`.
    pub fn start(upstream: &str, lie: Lie) -> Proxy {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let s = server.clone();
        let upstream = upstream.to_string();
        let thread = std::thread::spawn(move || {
            let agent = ureq::Agent::new_with_defaults();
            for mut req in s.incoming_requests() {
                let mut body = String::new();
                req.as_reader().read_to_string(&mut body).unwrap();
                let call: Value = serde_json::from_str(&body).unwrap();
                let method = call["method"].as_str().unwrap_or("").to_string();
                let mut answer: Value = agent
                    .post(&upstream)
                    .send_json(&call)
                    .unwrap()
                    .body_mut()
                    .read_json()
                    .unwrap();
                if answer.get("result").is_some_and(|r| !r.is_null()) {
                    rewrite(lie, &method, &mut answer);
                }
                let _ = req.respond(
                    tiny_http::Response::from_string(answer.to_string()).with_header(
                        "content-type: application/json"
                            .parse::<tiny_http::Header>()
                            .unwrap(),
                    ),
                );
            }
        });
        Proxy {
            server,
            thread: Some(thread),
            url,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
