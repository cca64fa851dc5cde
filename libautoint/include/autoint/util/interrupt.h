// Ctrl-C as a request to stop: training finishes its step and checkpoints instead of dying.
#pragma once

namespace autoint::util {

// Makes SIGINT set a flag that interrupt_requested() reads; the handler resets itself,
// so a second Ctrl-C ends the process the usual way. Apps call this; the library never does.
void install_interrupt_handler();

// True once SIGINT arrived (after install_interrupt_handler) or request_interrupt ran.
bool interrupt_requested();

// What the handler does; callable from a signal handler.
void request_interrupt() noexcept;

// Forgets an earlier request (a library user that handled it and goes on).
void clear_interrupt() noexcept;

}  // namespace autoint::util
