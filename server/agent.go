package server

import (
	"context"
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"
)

// The agent API (/v1/agent): what a person (or an agent platform) does
// with their own token (users.go's requireAgent). The queue routes are in
// agentqueue.go.

// AgentMe is GET /v1/agent/me: who the token is, their availability and
// teams.
type AgentMe struct {
	User      string   `json:"user"`
	Available bool     `json:"available"`
	Teams     []string `json:"teams"`
	Platform  bool     `json:"platform,omitempty"`
}

func (s *Server) agentRoutes(r chi.Router) {
	r.Use(s.requireAgent)
	r.Get("/me", s.agentMe)
	r.Put("/me/availability", s.setMyAvailability)
	s.queueAgentRoutes(r, func(r *http.Request) string { return agentUser(r.Context()) })
}

func (s *Server) me(name string) AgentMe {
	me := AgentMe{User: name, Teams: []string{}}
	if d := s.directory().CheckFile(); d != nil {
		if u, ok := d.User(name); ok {
			me.Available, me.Platform = u.IsAvailable(), len(u.Webhooks) > 0
		}
		for _, t := range d.Teams {
			if slices.Contains(t.Members, name) {
				me.Teams = append(me.Teams, t.Name)
			}
		}
	}
	return me
}

func (s *Server) agentMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.me(agentUser(r.Context())))
}

// setMyAvailability changes the agent's own availability, and nobody
// else's; becoming available offers them their teams' waiting
// conversations.
func (s *Server) setMyAvailability(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Available *bool `json:"available"`
	}
	if !readAPIJSON(w, r, &req) {
		return
	}
	if req.Available == nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "available: want true or false"})
		return
	}
	me, err := s.setAvailability(r.Context(), agentUser(r.Context()), *req.Available)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

// setAvailability sets user's own availability (the agent API's PUT
// /v1/agent/me/availability, the console's toggle).
func (s *Server) setAvailability(ctx context.Context, user string, available bool) (AgentMe, error) {
	if _, err := s.patchDirectoryUser(ctx, user, UserPatch{Available: &available}); err != nil {
		return AgentMe{}, err
	}
	return s.me(user), nil
}
