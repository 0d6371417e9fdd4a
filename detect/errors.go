package detect

import "errors"

// Errors returned by this package. Their messages name options, kinds and
// offsets, never a value found in a text.
var (
	// ErrUnknownKind: a kind name that ParseKind does not know.
	ErrUnknownKind = errors.New("unknown kind")
	// ErrUnknownRegion: Options.PhoneRegions names a region that has no
	// phone numbering metadata.
	ErrUnknownRegion = errors.New("unknown phone region")
	// ErrClosed: a Writer was written to after Close.
	ErrClosed = errors.New("writer is closed")
)
