package token04

import (
	"errors"
	"reflect"
	"testing"
)

func TestPrivilegePayload_RendersTheOfficialShape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   Privilege
		want string
	}{
		{Privilege{RoomID: "room1", Login: true}, `{"room_id":"room1","privilege":{"1":1,"2":0},"stream_id_list":null}`},
		{Privilege{RoomID: `r<&>"q\`, Login: true, Publish: true, StreamIDs: []string{"s1", "s2"}},
			`{"room_id":"r<&>\"q\\","privilege":{"1":1,"2":1},"stream_id_list":["s1","s2"]}`},
		{Privilege{StreamIDs: []string{}}, `{"room_id":"","privilege":{"1":0,"2":0},"stream_id_list":[]}`},
		{Privilege{RoomID: "房间\n", Publish: true}, `{"room_id":"房间\n","privilege":{"1":0,"2":1},"stream_id_list":null}`},
	} {
		if got := tc.in.Payload(); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParsePrivilege_RoundTripsPayload(t *testing.T) {
	t.Parallel()
	for _, p := range []Privilege{
		{},
		{RoomID: "room1", Login: true},
		{RoomID: "用户-😀 \"<&>\\", Login: true, Publish: true, StreamIDs: []string{"a", "b\u2028"}},
		{RoomID: "r", Publish: true, StreamIDs: []string{}},
	} {
		got, err := ParsePrivilege(p.Payload())
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("%s: got %+v, %v, want %+v", p.Payload(), got, err, p)
		}
	}
}

func TestParsePrivilege_AcceptsAnyOrderEscapingAndNoStreamList(t *testing.T) {
	t.Parallel()
	got, err := ParsePrivilege(` { "privilege" : {"2":1,"1":0}, "room_id":"\u0072\/1" } `)
	want := Privilege{RoomID: "r/1", Publish: true}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v, want %+v", got, err, want)
	}
}

func TestParsePrivilege_RejectsAnythingElse(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{
		"",
		"xxxx",
		"null",
		`[]`,
		`"room"`,
		`{}`,
		`{"room_id":"r"}`,
		`{"room_id":"r","privilege":null}`,
		`{"room_id":"r","privilege":[1,0]}`,
		`{"room_id":"r","privilege":{"1":1}}`,
		`{"room_id":"r","privilege":{"1":1,"2":2}}`,
		`{"room_id":"r","privilege":{"1":true,"2":0}}`,
		`{"room_id":"r","privilege":{"1":1.0,"2":0}}`,
		`{"room_id":"r","privilege":{"1":"1","2":0}}`,
		`{"room_id":"r","privilege":{"1":1,"2":0,"3":1}}`,
		`{"room_id":1,"privilege":{"1":1,"2":0}}`,
		`{"room_id":null,"privilege":{"1":1,"2":0}}`,
		`{"privilege":{"1":1,"2":0}}`,
		`{"room_id":"r","privilege":{"1":1,"2":0},"stream_id_list":"s1"}`,
		`{"room_id":"r","privilege":{"1":1,"2":0},"stream_id_list":["s1",null]}`,
		`{"room_id":"r","privilege":{"1":1,"2":0},"stream_id_list":[1]}`,
		`{"room_id":"r","privilege":{"1":1,"2":0},"unknown":1}`,
		`{"room_id":"r","privilege":{"1":1,"2":0}} {}`,
		"{\"room_id\":\"\xff\",\"privilege\":{\"1\":1,\"2\":0}}",
		`{"room_id":"r","privilege":{"1":1,"2":0}`,
	} {
		got, err := ParsePrivilege(payload)
		if !errors.Is(err, ErrNotPrivilegePayload) {
			t.Errorf("%q: got %+v, %v, want %v", payload, got, err, ErrNotPrivilegePayload)
		}
		if !reflect.DeepEqual(got, Privilege{}) {
			t.Errorf("%q: got %+v with the error, want the zero Privilege", payload, got)
		}
	}
}
