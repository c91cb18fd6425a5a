package inbound

import "hash/fnv"

// Assignment is what choosing a team's member depends on: the team's
// available members in the directory's order (directory.Members), and,
// per strategy, the round-robin counter or the members' open inbox
// items. The caller reads them (the server: from its store, in the
// commit's transaction; the simulator: from memory) and keeps the
// counter: Assign says whether it was used.
type Assignment struct {
	Strategy  string         // round-robin, least-busy, random; anything else: nobody
	Members   []string       // the team's available members, in the directory's order
	Counter   int64          // round-robin: how many items the team was given by turn so far
	Open      map[string]int // least-busy: open inbox items per member (absent: 0)
	MessageID string         // random: the message's id (MessageSid), so a retry picks the same member
}

// Assign returns the member who gets a team's delivery, "" when the
// team has no available member or the strategy chooses nobody (the item
// then waits in the team's queue). advance reports that the round-robin
// counter was used: the caller must then store Counter+1.
//
// One function for the server and the simulator, so that `flowc test`'s
// `expect assignee` is the server's choice.
func Assign(a Assignment) (assignee string, advance bool) {
	n := len(a.Members)
	if n == 0 {
		return "", false
	}
	switch a.Strategy {
	case "round-robin":
		i := a.Counter % int64(n)
		if i < 0 {
			i += int64(n)
		}
		return a.Members[i], true
	case "least-busy":
		// The first of the least busy, in the directory's order: ties go
		// to whoever is listed first.
		best := a.Members[0]
		for _, m := range a.Members[1:] {
			if a.Open[m] < a.Open[best] {
				best = m
			}
		}
		return best, false
	case "random":
		// Deterministic per message, so a retried transaction picks the same member.
		h := fnv.New32a()
		h.Write([]byte(a.MessageID))
		return a.Members[int(h.Sum32()%uint32(n))], false
	}
	return "", false
}
