;; A SIP-010 token standing in for sBTC and USDCx on the coinslot devnet: the same
;; `transfer` signature and checks as the real contracts. The devnet mints with the simnet's own
;; minting, so the contract has no mint of its own.
(define-fungible-token TOKEN_NAME)
(define-constant ERR-NOT-OWNER (err u4))

(define-public (transfer (amount uint) (sender principal) (recipient principal) (memo (optional (buff 34))))
  (begin
    (asserts! (or (is-eq tx-sender sender) (is-eq contract-caller sender)) ERR-NOT-OWNER)
    (try! (ft-transfer? TOKEN_NAME amount sender recipient))
    (match memo note (print note) 0x)
    (ok true)))

(define-read-only (get-name) (ok "TOKEN_SYMBOL"))
(define-read-only (get-symbol) (ok "TOKEN_SYMBOL"))
(define-read-only (get-decimals) (ok uTOKEN_DECIMALS))
(define-read-only (get-balance (who principal)) (ok (ft-get-balance TOKEN_NAME who)))
(define-read-only (get-total-supply) (ok (ft-get-supply TOKEN_NAME)))
(define-read-only (get-token-uri) (ok none))
