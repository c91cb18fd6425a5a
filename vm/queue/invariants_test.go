package queue

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestInvariants drives tickets through random sequences of offers,
// agent actions, limits and availability changes (seeded: the same
// sequences every run) and checks what must always hold: an offered
// ticket is offered to available members only; an open or transferring
// one has an assignee; only the one offered can accept and only the
// assignee can reply, transfer or finish.
func TestInvariants(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	for _, strategy := range Strategies[:7] {
		rng := rand.New(rand.NewPCG(1, uint64(len(strategy))))
		for run := range 200 {
			s := Settings{Strategy: strategy, Wait: 10 * time.Minute, Reserve: 30 * time.Second, Transfer: time.Minute, Inactivity: time.Hour}
			now := t0
			tk := Enter("t", now)
			ms := members(names...)
			memory := ""
			for step := range 40 {
				now = now.Add(time.Duration(rng.IntN(90)) * time.Second)
				who := names[rng.IntN(len(names))]
				switch rng.IntN(8) {
				case 0: // availability changes
					i := rng.IntN(len(ms))
					ms[i].Available = !ms[i].Available
				case 1:
					if tk.Status == Waiting {
						var off Offering
						tk, off = Offer(s, tk, Pick{Members: ms, Memory: memory, Seed: "SM1"}, now)
						if off.Last != "" {
							memory = off.Last
						}
						for _, o := range tk.Offered {
							if i := slices.IndexFunc(ms, func(m Member) bool { return m.Name == o }); i < 0 || !ms[i].Available {
								t.Fatalf("%s run %d step %d: offered to %s, who is not available: %+v", strategy, run, step, o, ms)
							}
						}
					}
				case 2:
					nt, _, err := Accept(tk, who, now)
					if err == nil && !slices.Contains(tk.Offered, who) {
						t.Fatalf("%s: %s accepted what was offered to %v", strategy, who, tk.Offered)
					}
					if err == nil {
						tk = nt
					}
				case 3:
					if _, err := Reply(tk, who, now); err == nil && tk.Assignee != who {
						t.Fatalf("%s: %s replied to %s's", strategy, who, tk.Assignee)
					}
				case 4:
					nt, err := Transfer(tk, who, "user:"+names[rng.IntN(len(names))], now)
					if err == nil {
						if tk.Assignee != who {
							t.Fatalf("%s: %s transferred %s's", strategy, who, tk.Assignee)
						}
						tk = nt
					}
				case 5:
					if err := Finish(tk, who); err == nil && tk.Assignee != who {
						t.Fatalf("%s: %s finished %s's", strategy, who, tk.Assignee)
					} else if err != nil && !errors.Is(err, ErrNotYours) && !errors.Is(err, ErrState) {
						t.Fatal(err)
					}
				default: // time passes: whatever limit is due
					if limit := Due(s, tk, now); limit != "" && limit != LimitWait {
						var closed bool
						if tk, closed = Expire(tk, limit, now); closed {
							tk = Enter("t", now) // a new conversation
						}
					}
				}
				switch tk.Status {
				case Open, Transferring:
					if tk.Assignee == "" {
						t.Fatalf("%s run %d step %d: %s without an assignee: %+v", strategy, run, step, tk.Status, tk)
					}
				case Offered:
					if len(tk.Offered) == 0 {
						t.Fatalf("%s run %d step %d: offered to nobody: %+v", strategy, run, step, tk)
					}
				}
			}
		}
	}
}
