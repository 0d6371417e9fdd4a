package detect

import (
	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
)

// Errors returned by this package. Each wraps one of the module's class
// sentinels, so piiguard.ErrorCode classifies it. Their messages name
// options, kinds and offsets, never a value found in a text.
var (
	// ErrUnknownKind: a kind name that ParseKind does not know.
	ErrUnknownKind = errtext.Tagged(piiguard.ErrInvalidArgument, "unknown kind")
	// ErrUnknownRegion: Options.PhoneRegions names a region that has no
	// phone numbering metadata.
	ErrUnknownRegion = errtext.Tagged(piiguard.ErrInvalidArgument, "unknown phone region")
	// ErrClosed: a Writer was written to after Close (piiguard.ErrClosed,
	// the value every package uses for it).
	ErrClosed = piiguard.ErrClosed
)
