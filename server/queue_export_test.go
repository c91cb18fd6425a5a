package server

import "errors"

// HTTPStatus is the status the API answers err with (a refused agent
// action: 403, 409, 422; 404), 0 when err is no *badRequest.
func HTTPStatus(err error) int {
	var b *badRequest
	if errors.As(err, &b) {
		return b.status
	}
	return 0
}
