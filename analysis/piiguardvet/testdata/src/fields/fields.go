package fields

import "github.com/piiguard/piiguard/pii"

type Customer struct {
	ID            string `pii:"id,owner=SalesRepID"`
	SalesRepID    string
	Email         string `pii:"email,search=EmailIndex"`
	EmailIndex    string
	EmailVerified bool
	WorkEmail     string  // want `Customer.WorkEmail is named like personal data but has no pii tag: tag it .pii:"email".`
	Phone         string  // want `Customer.Phone is named like personal data .*pii:"phone"`
	MobileNumber  []byte  // want `Customer.MobileNumber .*pii:"phone"`
	SSN           string  // want `Customer.SSN .*pii:"national_id"`
	IDCard        string  // want `Customer.IDCard .*pii:"national_id"`
	NationalID    *string // want `Customer.NationalID .*pii:"national_id"`
	Passport      string  // want `Customer.Passport .*pii:"national_id"`
	DateOfBirth   string  // want `Customer.DateOfBirth .*pii:"dob"`
	ClientIP      string  // want `Customer.ClientIP .*pii:"ip"`
	LastName      string  // want `Customer.LastName .*pii:"name"`
	Name          string  // too often a product's
	PlanName      string
	Country       string
	PhoneCount    int
	NotesEmail    pii.String // redacts itself
	Fax           string     `pii:"-"`
	SecondPhone   string     `pii:"-"` // said to hold none
	email         string
}

// Not a record: no pii tags, so no opinion about its fields.
type Contact struct {
	Email string
	Phone string
}
