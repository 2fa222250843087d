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
