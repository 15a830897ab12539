package minknow

// #include "minknow_auth.h"
import "C"

import "context"

// VersionInfo is MinKNOW's version, as get_version_info reports it.
type VersionInfo struct {
	Major, Minor, Patch int32
	// Full is the whole version string, e.g. "6.3.7".
	Full         string
	Bream        string
	Distribution string
}

// HostInfo is what the manager's describe_host says.
type HostInfo struct {
	ProductCode string
	Description string
	Serial      string
	NetworkName string
}

// PositionState is MinKNOW's state of a flow cell position.
type PositionState int32

const (
	PositionInitialising     PositionState = 0
	PositionRunning          PositionState = 1
	PositionResetting        PositionState = 2
	PositionHardwareRemoved  PositionState = 3
	PositionHardwareError    PositionState = 4
	PositionSoftwareError    PositionState = 5
	PositionNeedsAssociation PositionState = 6
	PositionUSBSpeedTooLow   PositionState = 7
)

// Position is one flow cell position in the manager's list.
type Position struct {
	Name  string
	State PositionState
	// StateName is the library's lower-case name of State ("running",
	// "hardware_removed", ...).
	StateName string
	// SecurePort is the position's gRPC port; 0 when it is not running.
	SecurePort   uint16
	ErrorInfo    string
	IsSimulated  bool
	IsIntegrated bool
	ParentName   string
}

// Running says whether the position is running, so that OpenPosition can
// reach it.
func (p Position) Running() bool {
	return p.State == PositionRunning && p.SecurePort != 0
}

// Version asks the manager for MinKNOW's version. The library bounds the
// call to 30 s; ctx may end the wait sooner.
func (c *Channel) Version(ctx context.Context) (VersionInfo, error) {
	return c.version(ctx, "get_version_info", func(p *C.minknow_channel, out **C.minknow_version_info,
		cerr **C.minknow_error) C.minknow_status {
		return C.minknow_manager_version(p, out, cerr)
	})
}

// PositionVersion asks a position channel (from OpenPosition) for its
// version, through the instance service's get_version_info.
func (c *Channel) PositionVersion(ctx context.Context) (VersionInfo, error) {
	return c.version(ctx, "instance get_version_info", func(p *C.minknow_channel,
		out **C.minknow_version_info, cerr **C.minknow_error) C.minknow_status {
		return C.minknow_position_version(p, out, cerr)
	})
}

func (c *Channel) version(ctx context.Context, what string, ask func(*C.minknow_channel,
	**C.minknow_version_info, **C.minknow_error) C.minknow_status) (VersionInfo, error) {
	work := func() (VersionInfo, error) {
		var v VersionInfo
		err := c.use(func(p *C.minknow_channel) error {
			var info *C.minknow_version_info
			var cerr *C.minknow_error
			if st := ask(p, &info, &cerr); st != C.MINKNOW_STATUS_OK {
				return takeError(st, cerr)
			}
			defer C.minknow_version_info_free(info)

			v = VersionInfo{
				Major:        int32(C.minknow_version_info_major(info)),
				Minor:        int32(C.minknow_version_info_minor(info)),
				Patch:        int32(C.minknow_version_info_patch(info)),
				Full:         C.GoString(C.minknow_version_info_full(info)),
				Bream:        C.GoString(C.minknow_version_info_bream(info)),
				Distribution: C.GoString(C.minknow_version_info_distribution(info)),
			}
			return nil
		})
		return v, err
	}
	return runBlocking(ctx, c.what+": "+what, work, nil)
}

// DescribeHost asks the manager to describe its host.
func (c *Channel) DescribeHost(ctx context.Context) (HostInfo, error) {
	work := func() (HostInfo, error) {
		var h HostInfo
		err := c.use(func(p *C.minknow_channel) error {
			var info *C.minknow_host_info
			var cerr *C.minknow_error
			if st := C.minknow_manager_describe_host(p, &info, &cerr); st != C.MINKNOW_STATUS_OK {
				return takeError(st, cerr)
			}
			defer C.minknow_host_info_free(info)

			h = HostInfo{
				ProductCode: C.GoString(C.minknow_host_info_product_code(info)),
				Description: C.GoString(C.minknow_host_info_description(info)),
				Serial:      C.GoString(C.minknow_host_info_serial(info)),
				NetworkName: C.GoString(C.minknow_host_info_network_name(info)),
			}
			return nil
		})
		return h, err
	}
	return runBlocking(ctx, c.what+": describe_host", work, nil)
}

// Positions lists the flow cell positions, running or not, as the manager
// reports them now.
func (c *Channel) Positions(ctx context.Context) ([]Position, error) {
	work := func() ([]Position, error) {
		var list []Position
		err := c.use(func(p *C.minknow_channel) error {
			var snap *C.minknow_positions
			var cerr *C.minknow_error
			if st := C.minknow_manager_positions(p, &snap, &cerr); st != C.MINKNOW_STATUS_OK {
				return takeError(st, cerr)
			}
			defer C.minknow_positions_free(snap)

			n := C.minknow_positions_count(snap)
			list = make([]Position, 0, int(n))
			for i := C.size_t(0); i < n; i++ {
				list = append(list, Position{
					Name:         C.GoString(C.minknow_positions_name(snap, i)),
					State:        PositionState(C.minknow_positions_state(snap, i)),
					StateName:    C.GoString(C.minknow_positions_state_name(snap, i)),
					SecurePort:   uint16(C.minknow_positions_secure_port(snap, i)),
					ErrorInfo:    C.GoString(C.minknow_positions_error_info(snap, i)),
					IsSimulated:  bool(C.minknow_positions_is_simulated(snap, i)),
					IsIntegrated: bool(C.minknow_positions_is_integrated(snap, i)),
					ParentName:   C.GoString(C.minknow_positions_parent_name(snap, i)),
				})
			}
			return nil
		})
		return list, err
	}
	return runBlocking(ctx, c.what+": flow_cell_positions", work, nil)
}

// BasecallerPort asks the manager for the basecaller's secure port.
// Errors: StatusNoBasecaller when it reports none.
func (c *Channel) BasecallerPort(ctx context.Context) (uint16, error) {
	work := func() (uint16, error) {
		var port uint16
		err := c.use(func(p *C.minknow_channel) error {
			var out C.uint16_t
			var cerr *C.minknow_error
			if st := C.minknow_manager_basecaller_port(p, &out, &cerr); st != C.MINKNOW_STATUS_OK {
				return takeError(st, cerr)
			}
			port = uint16(out)
			return nil
		})
		return port, err
	}
	return runBlocking(ctx, c.what+": basecaller_api", work, nil)
}
