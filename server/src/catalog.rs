//! The merchant's price list, and how an order of catalog items is priced — on the server.
//!
//! A page says *what* the buyer takes (`{"sku", "quantity"}`); what it costs comes from the
//! `[catalog]` of the configuration, never from the browser. Merchants whose own server prices
//! orders use [`crate::Backend::create_order`] or the bearer-authenticated route instead. Either
//! way an amount must fit WeChat's `total`: 1 ≤ fen ≤ 2³¹−1.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// WeChat's `total` is a 32-bit signed integer of fen.
pub const MAX_AMOUNT_FEN: i64 = i32::MAX as i64;
/// WeChat's limit on `description` / `body`, in bytes of UTF-8.
pub const MAX_DESCRIPTION_BYTES: usize = 127;
/// Most of one SKU in one order.
pub const MAX_QUANTITY: u32 = 9999;
/// Most lines in one order.
pub const MAX_LINES: usize = 50;

/// One product of the catalog (`[catalog] coffee = { description = "…", amount = 5800 }`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogItem {
    /// What the buyer sees in WeChat (1–127 bytes of UTF-8).
    pub description: String,
    /// Unit price in fen.
    pub amount: i64,
}

/// The merchant's products by SKU.
pub type Catalog = BTreeMap<String, CatalogItem>;

/// What a page may ask for: a SKU and how many.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    pub sku: String,
    pub quantity: u32,
}

/// One priced line of an order, kept with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: String,
    pub description: String,
    pub quantity: u32,
    /// Unit price in fen at the time of the order.
    pub unit_amount: i64,
}

/// An order's description and amount as the catalog prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub description: String,
    pub amount: i64,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("items is empty: order at least one {{\"sku\", \"quantity\"}}")]
    NoItems,
    #[error("at most {MAX_LINES} lines per order, got {0}")]
    TooManyLines(usize),
    #[error("no product {sku:?} in the catalog (known: {known})")]
    UnknownSku { sku: String, known: String },
    #[error("quantity of {sku:?} must be 1 to {MAX_QUANTITY}, got {quantity}")]
    BadQuantity { sku: String, quantity: u32 },
    #[error("{0}")]
    Amount(String),
}

/// An amount WeChat accepts as `total`, or what is wrong with it.
pub fn check_amount(amount: i64) -> Result<i64, String> {
    if (1..=MAX_AMOUNT_FEN).contains(&amount) {
        Ok(amount)
    } else {
        Err(format!(
            "amount is in fen and must be 1 to {MAX_AMOUNT_FEN} (WeChat's total), got {amount}"
        ))
    }
}

/// A description WeChat accepts (trimmed), or what is wrong with it.
pub fn check_description(description: &str) -> Result<&str, String> {
    let d = description.trim();
    if d.is_empty() {
        return Err("description must not be empty".into());
    }
    if d.len() > MAX_DESCRIPTION_BYTES {
        return Err(format!(
            "description is {} bytes of UTF-8; WeChat allows at most {MAX_DESCRIPTION_BYTES}",
            d.len()
        ));
    }
    Ok(d)
}

/// Checks every product of a configured catalog, naming the SKU at fault.
pub fn check_catalog(catalog: &Catalog) -> Result<(), String> {
    for (sku, item) in catalog {
        check_description(&item.description)
            .and_then(|_| check_amount(item.amount))
            .map_err(|e| format!("catalog.{sku}: {e}"))?;
    }
    Ok(())
}

/// Prices `items` from `catalog`: unit prices and descriptions are the catalog's; the total must
/// fit WeChat's `total`.
pub fn price(catalog: &Catalog, items: &[ItemRequest]) -> Result<Priced, PricingError> {
    if items.is_empty() {
        return Err(PricingError::NoItems);
    }
    if items.len() > MAX_LINES {
        return Err(PricingError::TooManyLines(items.len()));
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut total: i64 = 0;
    for req in items {
        let item = catalog
            .get(&req.sku)
            .ok_or_else(|| PricingError::UnknownSku {
                sku: req.sku.clone(),
                known: catalog.keys().cloned().collect::<Vec<_>>().join(", "),
            })?;
        if !(1..=MAX_QUANTITY).contains(&req.quantity) {
            return Err(PricingError::BadQuantity {
                sku: req.sku.clone(),
                quantity: req.quantity,
            });
        }
        // At most 50 × 9999 × (2³¹−1): fits i64, so only the final bound can fail.
        total += item.amount * i64::from(req.quantity);
        lines.push(OrderLine {
            sku: req.sku.clone(),
            description: item.description.clone(),
            quantity: req.quantity,
            unit_amount: item.amount,
        });
    }
    let amount = check_amount(total).map_err(PricingError::Amount)?;
    Ok(Priced {
        description: describe(&lines),
        amount,
        lines,
    })
}

/// "Coffee beans 250g x2, Mug" — cut to WeChat's 127 bytes on a character boundary.
fn describe(lines: &[OrderLine]) -> String {
    let text = lines
        .iter()
        .map(|l| match l.quantity {
            1 => l.description.clone(),
            n => format!("{} x{n}", l.description),
        })
        .collect::<Vec<_>>()
        .join(", ");
    if text.len() <= MAX_DESCRIPTION_BYTES {
        return text;
    }
    let mut cut = MAX_DESCRIPTION_BYTES - '…'.len_utf8();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::from([
            (
                "coffee".to_string(),
                CatalogItem {
                    description: "山行咖啡-云南小粒咖啡豆250g".into(),
                    amount: 5800,
                },
            ),
            (
                "gold".to_string(),
                CatalogItem {
                    description: "Gold bar".into(),
                    amount: MAX_AMOUNT_FEN,
                },
            ),
        ])
    }

    fn item(sku: &str, quantity: u32) -> ItemRequest {
        ItemRequest {
            sku: sku.into(),
            quantity,
        }
    }

    #[test]
    fn prices_come_from_the_catalog() {
        let p = price(&catalog(), &[item("coffee", 3)]).unwrap();
        assert_eq!(p.amount, 17_400);
        assert_eq!(p.description, "山行咖啡-云南小粒咖啡豆250g x3");
        assert_eq!(p.lines[0].unit_amount, 5800);
        let p = price(&catalog(), &[item("coffee", 1), item("gold", 1)]);
        assert!(matches!(p, Err(PricingError::Amount(_))), "{p:?}");
        assert!(matches!(
            price(&catalog(), &[item("tea", 1)]),
            Err(PricingError::UnknownSku { .. })
        ));
        assert!(matches!(
            price(&catalog(), &[item("coffee", 0)]),
            Err(PricingError::BadQuantity { .. })
        ));
        assert_eq!(price(&catalog(), &[]), Err(PricingError::NoItems));
        let many: Vec<_> = (0..40).map(|_| item("coffee", 2)).collect();
        let p = price(&catalog(), &many).unwrap();
        assert!(p.description.len() <= MAX_DESCRIPTION_BYTES && p.description.ends_with('…'));
    }

    #[test]
    fn amounts_fit_wechat_total() {
        assert!(check_amount(0).is_err());
        assert!(check_amount(1).is_ok());
        assert!(check_amount(MAX_AMOUNT_FEN).is_ok());
        assert!(check_amount(MAX_AMOUNT_FEN + 1).is_err());
        assert!(check_amount(i64::MAX).is_err());
        let mut bad = catalog();
        bad.get_mut("gold").unwrap().amount = 0;
        assert!(check_catalog(&bad).unwrap_err().contains("catalog.gold"));
    }
}
