//! Criterion benchmarks for the hot paths of a merchant backend: v2 sign, v3 request sign,
//! v3 verify, AES-GCM resource decrypt, and a whole notification (verify + decrypt + parse);
//! plus the raw RSA-2048 operations to set next to `openssl speed rsa2048`, and OAEP.
//! Results and the comparison live in sign/BENCHMARKS.md.

use std::hint::black_box;

mod common;

use common::{key, payment_body, APIV3_KEY};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wxpay_sign::v2::{self, Params, SignType};
use wxpay_sign::v3::{self, WechatpayHeaders};
use wxpay_sign::{KeySet, MerchantSigner};

fn v2_benches(c: &mut Criterion) {
    let params: Params = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let key = "192006250b4c09247ec02edce69f6a2d";
    c.bench_function("v2 sign MD5 (official example)", |b| {
        b.iter(|| v2::sign(black_box(&params), key, SignType::Md5))
    });
    c.bench_function("v2 sign HMAC-SHA256 (official example)", |b| {
        b.iter(|| v2::sign(black_box(&params), key, SignType::HmacSha256))
    });
    let mut signed = params.clone();
    signed.insert("sign".into(), v2::sign(&params, key, SignType::Md5));
    let xml = v2::to_xml(&signed);
    c.bench_function("v2 notification parse_xml + verify", |b| {
        b.iter(|| v2::verify(&v2::parse_xml(black_box(xml.as_bytes())).unwrap(), key).unwrap())
    });
}

fn rsa_benches(c: &mut Criterion) {
    let key = key();
    let public = key.public_key();
    let msg = b"1700000000\nnonce\n{\"code_url\":\"weixin://wxpay/bizpayurl?pr=p4lpSuKzz\"}\n";
    let sig = key.sign_sha256(msg).unwrap();
    c.bench_function("RSA-2048 sign (raw, aws-lc-rs)", |b| {
        b.iter(|| key.sign_sha256(black_box(msg)).unwrap())
    });
    c.bench_function("RSA-2048 verify (raw, aws-lc-rs)", |b| {
        b.iter(|| assert!(public.verify_sha256(black_box(msg), black_box(&sig))))
    });

    let signer = MerchantSigner::new(
        "1900009191",
        "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
        self::key(),
    );
    let body = r#"{"appid":"wxd678efh567hg6787","mchid":"1900009191","description":"Cup","out_trade_no":"ORDER-1","notify_url":"https://shop.example/notify","amount":{"total":100,"currency":"CNY"}}"#;
    c.bench_function("v3 sign_request (Authorization header)", |b| {
        b.iter(|| {
            v3::sign_request(
                &signer,
                "POST",
                "/v3/pay/transactions/native",
                black_box(body),
                1_700_000_000,
                "593BEC0C930BF1AFEB40B4A08C8FB242",
            )
            .unwrap()
        })
    });

    let mut keys = KeySet::new();
    keys.insert("PUB_KEY_ID_01", public.clone());
    let resp = br#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#;
    let resp_sig = v3::sign_response(&key, 1_700_000_000, "n", resp).unwrap();
    let headers = WechatpayHeaders {
        timestamp: "1700000000",
        nonce: "n",
        signature: &resp_sig,
        serial: "PUB_KEY_ID_01",
    };
    c.bench_function("v3 verify (response headers)", |b| {
        b.iter(|| v3::verify(black_box(&headers), black_box(resp), 1_700_000_000, &keys).unwrap())
    });
}

fn notification_benches(c: &mut Criterion) {
    let (body, ct) = payment_body(APIV3_KEY);
    let mut group = c.benchmark_group("aes-256-gcm");
    group.throughput(Throughput::Bytes(ct.len() as u64 * 3 / 4));
    group.bench_function("decrypt_resource (payment, ~430 B)", |b| {
        b.iter(|| {
            v3::decrypt_resource(APIV3_KEY, "rnd123456789", "transaction", black_box(&ct)).unwrap()
        })
    });
    group.finish();

    let key = key();
    let sig = v3::sign_response(&key, 1_700_000_000, "n", &body).unwrap();
    let mut keys = KeySet::new();
    keys.insert("PUB_KEY_ID_01", key.public_key());
    let headers = WechatpayHeaders {
        timestamp: "1700000000",
        nonce: "n",
        signature: &sig,
        serial: "PUB_KEY_ID_01",
    };
    c.bench_function(
        "v3 open_payment_notification (verify + decrypt + parse)",
        |b| {
            b.iter(|| {
                v3::open_payment_notification(
                    &headers,
                    black_box(&body),
                    1_700_000_000,
                    &keys,
                    APIV3_KEY,
                )
                .unwrap()
            })
        },
    );
}

fn oaep_benches(c: &mut Criterion) {
    let key = key();
    let public = key.public_key();
    let ct = v3::oaep_encrypt(&public, "13800138000".as_bytes()).unwrap();
    let mut group = c.benchmark_group("rsa-oaep");
    group.sample_size(20);
    group.bench_function("oaep_encrypt (aws-lc-rs)", |b| {
        b.iter(|| v3::oaep_encrypt(&public, black_box(b"13800138000")).unwrap())
    });
    group.bench_function("oaep_decrypt (aws-lc-rs)", |b| {
        b.iter(|| v3::oaep_decrypt(&key, black_box(&ct)).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    v2_benches,
    rsa_benches,
    notification_benches,
    oaep_benches
);
criterion_main!(benches);
