package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
)

// `status ORDER`: one JSON line (examples/README.md). status, final and time are the projection's (null, false,
// null while no event has moved the payment); lastError is the code of the newest command.failed for the order's
// command; events counts the distinct events applied to the order.

type statusLine struct {
	Order     string  `json:"order"`
	Status    *string `json:"status"`
	Final     bool    `json:"final"`
	Time      *string `json:"time"`
	LastError *string `json:"lastError"`
	Events    int     `json:"events"`
}

func printStatus(db *sql.DB, order string) error {
	var status, t, lastError sql.NullString
	var final sql.NullBool
	line := statusLine{Order: order}
	err := db.QueryRow(`SELECT status, final, status_time, last_error, events FROM orders WHERE order_id = ?`, order).
		Scan(&status, &final, &t, &lastError, &line.Events)
	if err == sql.ErrNoRows {
		return fmt.Errorf("no order %s", order)
	}
	if err != nil {
		return err
	}
	line.Final = final.Bool
	if status.Valid {
		line.Status = &status.String
		line.Time = &t.String
	}
	if lastError.Valid {
		line.LastError = &lastError.String
	}
	out, err := json.Marshal(line)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
