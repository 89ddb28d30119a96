package term

import "testing"

func TestUTF8Locale(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"LANG": "en_US.UTF-8"}, true},
		{map[string]string{"LANG": "C.utf8"}, true},
		{map[string]string{"LANG": "de_DE.UTF-8@euro"}, true},
		{map[string]string{"LANG": "en_US.ISO-8859-1"}, false},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LC_CTYPE": "C", "LANG": "en_US.UTF-8"}, false},
		{map[string]string{"LC_ALL": "C.UTF-8", "LC_CTYPE": "C"}, true},
		{map[string]string{"LC_ALL": "", "LC_CTYPE": "en_GB.utf-8"}, true},
	}
	for _, tt := range tests {
		if got := UTF8Locale(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.env, got, tt.want)
		}
	}
}
