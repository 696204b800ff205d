//===- Commands.h - lopper subcommands ---------------------------*- C++
//-*-===//
//
// Each subcommand lives in its own file with its cl::SubCommand and options,
// and registers an entry here; lopper.cpp dispatches on the selected one.
//
//===----------------------------------------------------------------------===//
#ifndef LOPPER_TOOLS_LOPPER_COMMANDS_H
#define LOPPER_TOOLS_LOPPER_COMMANDS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"

namespace lopper::tools {

/// The category whose options `lopper --help` shows.
llvm::cl::OptionCategory &lopperCategory();

/// Prints "lopper: error: MSG" to stderr and returns 1.
int error(const llvm::Twine &msg);

/// A subcommand: `sub` is selected on the command line, `run` executes it
/// and returns the process exit status.
struct Command {
  llvm::cl::SubCommand *sub;
  int (*run)();
};

Command inspectCommand();
Command compileCommand();
Command runCommand();
Command benchCommand();
Command verifyCommand();

} // namespace lopper::tools

#endif
