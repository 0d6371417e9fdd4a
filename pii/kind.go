package pii

// Kind says what a protected value is. It selects the value's default data
// class, how it is normalised for a blind index, and how it is masked. Kinds
// are written in struct tags (`pii:"email"`) and are stable strings.
type Kind string

// Kinds.
const (
	KindName        Kind = "name"         // a person's name; masked to initials "L. W."
	KindEmail       Kind = "email"        // an e-mail address; masked "l***@example.com"
	KindPhone       Kind = "phone"        // a phone number; masked "*** **** 8000"
	KindAddress     Kind = "address"      // a postal address in one field; masked to its city
	KindStreet      Kind = "street"       // the street line of a structured address; masked fully
	KindCity        Kind = "city"         // the city of a structured address; shown by masks
	KindPostcode    Kind = "postcode"     // a postal code; masked fully
	KindCard        Kind = "card"         // a payment card number (PAN); masked "4111 11** **** 1111"
	KindBankAccount Kind = "bank_account" // an IBAN or account number; masked "GB** **** 5698"
	KindNationalID  Kind = "national_id"  // a national ID, SSN or passport number; masked "************002X"
	KindDateOfBirth Kind = "dob"          // a date of birth; masked to the year "1987-**-**"
	KindIP          Kind = "ip"           // an IP address; masked to its network "192.0.2.*"
	KindText        Kind = "text"         // free text that may hold anything; masked fully
)

// Class is the data class of a value, for access policies and audit
// events: who may see contact details is often not who may see government
// IDs. Every kind has a default class; the tag option class= overrides it.
type Class string

// Classes.
const (
	ClassContact      Class = "contact"       // how to reach a person: e-mail, phone, postal address
	ClassIdentity     Class = "identity"      // who a person is: name, date of birth
	ClassFinancial    Class = "financial"     // cards, bank accounts, income
	ClassGovernmentID Class = "government_id" // national ID, passport, tax or social security numbers
	ClassHealth       Class = "health"        // medical data (a GDPR special category)
	ClassLocation     Class = "location"      // where a person is or was
	ClassOnline       Class = "online"        // online identifiers: IP addresses, device IDs
	ClassSensitive    Class = "sensitive"     // other special categories: beliefs, ethnicity, orientation
	ClassGeneral      Class = "general"       // personal data with no more specific class
)

// kinds maps every kind to its default class.
var kinds = map[Kind]Class{
	KindName:        ClassIdentity,
	KindEmail:       ClassContact,
	KindPhone:       ClassContact,
	KindAddress:     ClassContact,
	KindStreet:      ClassContact,
	KindCity:        ClassContact,
	KindPostcode:    ClassContact,
	KindCard:        ClassFinancial,
	KindBankAccount: ClassFinancial,
	KindNationalID:  ClassGovernmentID,
	KindDateOfBirth: ClassIdentity,
	KindIP:          ClassOnline,
	KindText:        ClassGeneral,
}

var classes = map[Class]bool{
	ClassContact: true, ClassIdentity: true, ClassFinancial: true, ClassGovernmentID: true,
	ClassHealth: true, ClassLocation: true, ClassOnline: true, ClassSensitive: true, ClassGeneral: true,
}

// DefaultClass returns the class a field of kind k has when its tag names
// none, and false if k is not a kind.
func (k Kind) DefaultClass() (Class, bool) {
	c, ok := kinds[k]
	return c, ok
}
