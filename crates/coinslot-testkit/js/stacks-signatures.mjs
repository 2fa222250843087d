// Signature checks @stacks/transactions 7.6 leaves half done: it verifies a transaction's
// origin, not its sponsor. Shared by the devnet and the cross-check driver.

import {
  AuthType,
  hashP2PKH,
  isSingleSig,
  publicKeyFromSignatureVrs,
  sigHashPreSign,
} from '@stacks/transactions';
import { hexToBytes } from '@stacks/common';

/** Throws unless the origin's signatures and, if sponsored, the (single-sig) sponsor's hold. */
export function verifySignatures(tx) {
  const next = tx.verifyOrigin();
  if (tx.auth.authType !== AuthType.Sponsored) return;
  const sponsor = tx.auth.sponsorSpendingCondition;
  if (!isSingleSig(sponsor)) throw new Error('multi-sig sponsors are not checked');
  // The sponsor signs after the origin, from the origin's last sighash.
  const presign = sigHashPreSign(next, AuthType.Sponsored, sponsor.fee, sponsor.nonce);
  const key = publicKeyFromSignatureVrs(presign, sponsor.signature.data, sponsor.keyEncoding);
  if (hashP2PKH(hexToBytes(key)) !== sponsor.signer) throw new Error('sponsor signer does not match its signature');
}
