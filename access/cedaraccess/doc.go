// Package cedaraccess decides piiguard access requests with Cedar policies
// (github.com/cedar-policy/cedar-go), behind the same access.Checker
// interface as package access's own Policy. It lives in its own package so
// that an application that does not use Cedar does not build it.
//
// # Mapping
//
// An access.Request becomes a Cedar request and two entities:
//
//	principal  User::"<Principal.ID>", whose parents are Role::"<role>" for
//	           each of Principal.Roles, with attributes
//	             roles         Set<String>
//	             tenant        String   (absent when empty)
//	             mfa           Bool     (Authentication.HasMFA)
//	             auth_methods  Set<String>
//	             attributes    Record of Strings (Principal.Attributes)
//	action     Action::"<Action>"       (reveal, search, export, tokenize,
//	                                     detokenize, erase, key-admin)
//	resource   Field::"<RecordType>.<Field>", with attributes
//	             record_type, field, kind, class   String (maybe "")
//	             owner    User entity  (absent when OwnerID is empty)
//	             subject  String       (absent when SubjectID is empty)
//	             tenant   String       (absent when empty)
//	context    purpose      String (maybe "")
//	           break_glass  Bool (a reason was stated; never its text)
//	           now          datetime
//	           auth_age     duration since Authentication.Time (absent when
//	                        unknown or more than a minute in the future)
//
// Attributes that may be absent must be tested with has before use, as in
// "principal has tenant && resource has tenant && principal.tenant ==
// resource.tenant". MapRequest exposes the mapping.
//
// # Effects
//
// Cedar decides permit or forbid; Mask and break-glass are annotations:
//
//	@id("rule-name")      the rule name reported in Decision.Rule (default:
//	                      the policy ID)
//	@effect("mask")       a permit that grants the masked form only
//	@break_glass          a permit that applies only when the request states
//	                      a reason; its decisions have Alert set
//
// The Checker evaluates the set once and combines the policies that hold
// with the precedence of package access: any forbid denies; else a plain
// permit allows; else a break-glass permit allows with an alert; else a mask
// permit masks (for reveal and export only); else deny. Among policies of one
// kind, the first in the policy text names the decision.
//
// These rules of package access's grammar translate as follows:
//
//	owner_only: true         resource has owner && resource.owner == principal
//	same_tenant: true        principal has tenant && resource has tenant &&
//	                         principal.tenant == resource.tenant
//	purposes: [a, b]         ["a", "b"].contains(context.purpose)
//	mfa_within: 15m          principal.mfa && context has auth_age &&
//	                         context.auth_age <= duration("15m")
//	fields: ["Address.*"]    resource.field like "Address.*"
//	attributes: {region: eu} principal.attributes has region &&
//	                         principal.attributes.region == "eu"
//
// testdata/crm.cedar is access/testdata/crm.yaml translated this way, and
// the tests hold both to the same table of decisions.
//
// # Security considerations
//
// Cedar skips a policy whose evaluation fails (for example it reads an
// absent attribute). For a permit that only withholds access; for a forbid
// it would let access through, so the Checker answers Deny with an error
// wrapping ErrEvaluation instead. Guard optional attributes with has.
// Reasons and errors never carry Cedar's messages, which can quote request
// values; they name rules only.
//
// # Errors
//
// New and Parse return *access.PolicyError values wrapping
// access.ErrInvalidPolicy for bad annotations and syntax errors; Check
// returns access.ErrNoPrincipal, access.ErrUnknownAction and ErrEvaluation,
// each with a Deny.
package cedaraccess
