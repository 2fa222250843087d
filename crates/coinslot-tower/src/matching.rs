//! Reading a request's payment header and finding the offer it pays: pure protocol, no
//! facilitator.

use coinslot_core::v1::{PaymentPayloadV1, PaymentRequirementsV1};
use coinslot_core::{
    PaymentPayload, PaymentRequirements, VerifyRequest, find_matching_requirements,
    match_payload_v1,
};
use http::HeaderMap;
use http::header::HeaderValue;

use crate::layer::ReadRawPayment;
use crate::reject::{Challenge, NO_MATCHING_REQUIREMENTS, PAYMENT_SIGNATURE, X_PAYMENT};

/// A decoded payment, matched to one of the offers.
pub(crate) struct Matched {
    /// What the facilitator is asked to verify and settle.
    pub(crate) request: VerifyRequest,
    /// The offer it pays.
    pub(crate) requirements: PaymentRequirements,
    /// The protocol version the answer speaks: the request's, or 2 for a raw payment.
    pub(crate) x402_version: u8,
}

/// The payment header of a request: `PAYMENT-SIGNATURE` (v2) first, then `X-PAYMENT` (v1).
pub(crate) fn payment_header(headers: &HeaderMap) -> Option<(u8, &HeaderValue)> {
    headers
        .get(PAYMENT_SIGNATURE)
        .map(|v| (2, v))
        .or_else(|| headers.get(X_PAYMENT).map(|v| (1, v)))
}

/// Decodes the payment and finds the offer it is for; `Err` is the 402's error text.
pub(crate) fn match_payment(
    x402_version: u8,
    header: &HeaderValue,
    challenge: &Challenge<'_>,
    read_raw: Option<ReadRawPayment>,
) -> Result<Matched, String> {
    let v2 = |payload: PaymentPayload| -> Result<Matched, String> {
        let requirements = find_matching_requirements(&challenge.offers, &payload.accepted)
            .ok_or(NO_MATCHING_REQUIREMENTS)?
            .clone();
        Ok(Matched {
            request: VerifyRequest::v2(payload, requirements.clone()),
            requirements,
            x402_version: 2,
        })
    };
    if x402_version == 2 {
        let payload = PaymentPayload::from_header(header.as_bytes())
            .map_err(|e| format!("invalid_payload: PAYMENT-SIGNATURE: {e}"))?;
        return v2(payload);
    }
    let payload = match PaymentPayloadV1::from_header(header.as_bytes()) {
        Ok(payload) => payload,
        Err(e) => {
            // Not x402 v1 JSON: perhaps a chain's own raw form, which a scheme crate reads.
            if let Some(payload) =
                read_raw.and_then(|read| read(header.as_bytes(), &challenge.offers))
            {
                return v2(payload);
            }
            return Err(format!("invalid_payload: X-PAYMENT: {e}"));
        }
    };
    // The v1 offers are the v2 ones whose network has a v1 name, in the same order; the first
    // that the core's v1 rule matches is the one.
    let resource = challenge.resource();
    let (requirements, v1) = challenge
        .offers
        .iter()
        .find_map(|offer| {
            let v1 = PaymentRequirementsV1::from_v2(offer, &resource).ok()?;
            match_payload_v1(std::slice::from_ref(&v1), &payload)?;
            Some((offer.clone(), v1))
        })
        .ok_or(NO_MATCHING_REQUIREMENTS)?;
    Ok(Matched {
        requirements,
        request: VerifyRequest::V1 {
            payment_payload: payload,
            payment_requirements: v1,
        },
        x402_version: 1,
    })
}

#[cfg(test)]
mod tests {
    use coinslot_core::{JsonObject, PaymentRequired};

    use super::*;
    use crate::PaidRoute;

    fn offer(network: &str, amount: u64) -> PaymentRequirements {
        serde_json::from_value(serde_json::json!({
            "scheme": "exact", "network": network, "amount": amount.to_string(),
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60,
            "extra": {"name": "USDC", "version": "2"},
        }))
        .unwrap()
    }

    /// Matches `header` (sent as `x402_version`) against a Base Sepolia and a Base offer.
    fn matched(x402_version: u8, header: &str) -> Result<Matched, String> {
        let route = PaidRoute::get("/paid");
        let challenge = Challenge {
            offers: vec![offer("eip155:84532", 1000), offer("eip155:8453", 2000)].into(),
            base_url: "https://api.example.com",
            uri: "/paid?x=1".parse().unwrap(),
            route: &route,
        };
        match_payment(
            x402_version,
            &HeaderValue::from_str(header).unwrap(),
            &challenge,
            None,
        )
    }

    fn v2_for(accepted: PaymentRequirements) -> String {
        PaymentPayload::new(accepted, JsonObject::new(), None)
            .to_header()
            .unwrap()
    }

    #[test]
    fn a_v2_payment_is_matched_to_the_offer_it_echoes() {
        let paid = matched(2, &v2_for(offer("eip155:8453", 2000))).unwrap();
        assert_eq!(paid.x402_version, 2);
        assert_eq!(paid.requirements, offer("eip155:8453", 2000));
        // An echo that differs in any field is for something not offered.
        let error = matched(2, &v2_for(offer("eip155:8453", 1999)))
            .err()
            .unwrap();
        assert_eq!(error, NO_MATCHING_REQUIREMENTS);
    }

    #[test]
    fn a_v1_payment_is_matched_by_scheme_and_network_and_carries_the_resource() {
        let v1 = serde_json::json!({
            "x402Version": 1, "scheme": "exact", "network": "base-sepolia", "payload": {},
        });
        let header = coinslot_core::header::encode(&v1).unwrap();
        let paid = matched(1, &header).unwrap();
        assert_eq!(paid.x402_version, 1);
        assert_eq!(paid.requirements, offer("eip155:84532", 1000));
        let VerifyRequest::V1 {
            payment_requirements,
            ..
        } = paid.request
        else {
            panic!("a v1 request")
        };
        assert_eq!(
            payment_requirements.resource,
            "https://api.example.com/paid?x=1"
        );
    }

    #[test]
    fn what_does_not_decode_names_its_header() {
        let error = matched(2, "bm90IGpzb24=").err().unwrap();
        assert!(
            error.starts_with("invalid_payload: PAYMENT-SIGNATURE: "),
            "{error}"
        );
        let error = matched(1, "bm90IGpzb24=").err().unwrap();
        assert!(error.starts_with("invalid_payload: X-PAYMENT: "), "{error}");
        // A 402 challenge is not a payment.
        let challenge = PaymentRequired {
            x402_version: Default::default(),
            error: None,
            resource: coinslot_core::ResourceInfo {
                url: "https://api.example.com/paid".into(),
                description: None,
                mime_type: None,
                other: JsonObject::new(),
            },
            accepts: vec![offer("eip155:84532", 1000)],
            extensions: None,
        };
        assert!(matched(2, &challenge.to_header().unwrap()).is_err());
    }
}
