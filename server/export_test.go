package server

// Test hooks.

// JSONFields names fields as the JSON endpoint does.
var JSONFields = jsonFields

func SetQueuedHook(s *Server, f func(key string)) { s.order.queued = f }
func LockConversation(s *Server, key string)      { s.order.Lock(key) }
func UnlockConversation(s *Server, key string)    { s.order.Unlock(key) }
