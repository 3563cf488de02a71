// Package prediction holds the customer-base models segmentation fits at
// each recompute: BG/NBD (Fader, Hardie and Lee 2005, "Counting Your
// Customers the Easy Way") for repeat purchases and dropout, and
// Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV") for the spend
// per purchase day. It summarises purchase histories in whole UTC calendar
// days, fits both models by maximum likelihood, and gives each customer's
// probability of being alive, expected purchases over a horizon, expected
// spend per purchase day and lifetime value.
//
// Time inside the models is in weeks (a day is 1/7 week), as in the
// literature, so α is per week and log-likelihoods compare with published
// ones. The package is pure computation: no I/O, no clock.
package prediction
