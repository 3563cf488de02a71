// Package recommend is segmentation's recommendation model: what to show
// each customer next. A History keeps every customer's purchases and
// product views in memory; Build turns the purchases before an as-of time
// into a Model (item-to-item co-purchase normalised as cosine, with each
// item's neighbours capped; popularity overall and per category; each
// customer's top category), and the Model answers per customer (with a
// reason a person can read) and per item. Evaluate backtests the model
// against the popularity baseline. The maths is counting, done with plain
// slices: no library fits better.
package recommend
