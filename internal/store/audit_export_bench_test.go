package store

import (
	"io"
	"testing"
)

// benchmarkAuditEncode writes b.N events shaped like the console's through
// the encoder of format into io.Discard: the export's cost past the database.
func benchmarkAuditEncode(b *testing.B, format string) {
	events := make([]AuditEvent, 1000)
	for i := range events {
		events[i] = sampleAuditEvent(i)
	}
	enc, err := NewAuditEncoder(io.Discard, format)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := enc.Write(events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkAuditNDJSONEncode(b *testing.B) { benchmarkAuditEncode(b, AuditFormatNDJSON) }

func BenchmarkAuditCSVEncode(b *testing.B) { benchmarkAuditEncode(b, AuditFormatCSV) }
